"""Public key sets (categories) from the CTDC codebook and HTCDS picklists, shipped as data."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from tessera.privacy.errors import PrivacyError


@cache
def public_keysets() -> dict[str, list[str]]:
    """All shipped key sets: CTDC VP columns by name, HTCDS fields as ``htcds:<field>``."""
    text = resources.files("tessera.privacy").joinpath("data/keysets.json").read_text("utf-8")
    data: dict[str, list[str]] = json.loads(text)
    return data


def keyset(name: str) -> list[str]:
    """One key set, naming the problem when it is not shipped."""
    found = public_keysets().get(name)
    if found is None:
        raise PrivacyError(f"no public key set named {name!r}")
    return found
