"""HTCDS field names ↔ Python attribute names (`vic_TypeOfExploitation` ↔ `type_of_exploitation`)."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def attr_name(htcds_name: str) -> str:
    """The snake_case attribute for an HTCDS field: the part after the prefix, split at capitals."""
    _prefix, _, rest = htcds_name.partition("_")
    return _BOUNDARY.sub("_", rest).lower()
