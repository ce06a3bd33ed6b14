"""Normalisers applied before blind indexing, so that equal values index equally."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalise_name(value: str) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive, in any script."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", stripped)).strip()


def normalise_phone(value: str, default_region: str | None = None) -> str:
    """E.164, or '' when the number cannot be parsed (and so cannot be matched)."""
    try:
        parsed = phonenumbers.parse(value, default_region or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_document(value: str) -> str:
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", value).upper())


def normalise_date(value: date | str) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(value.strip()).isoformat()
