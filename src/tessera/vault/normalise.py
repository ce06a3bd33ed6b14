"""Normalisers applied before blind indexing, so that equal values index equally."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, region_code_for_country_code

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
    if value.startswith("+"):
        fast = _already_e164(value)
        if fast is not None:
            return fast
    return parse_phone(value, default_region)


def parse_phone(value: str, default_region: str | None = None) -> str:
    """`normalise_phone` through the full parser, for any way of writing a number."""
    try:
        parsed = phonenumbers.parse(value, default_region or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_SEPARATORS = re.compile(r"[ \t-]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _already_e164(value: str) -> str | None:
    """A number written in international form (spaces and hyphens aside) needs no parsing:
    its digits are its E.164 form unless the parser would change them, which happens only after
    a leading zero or a national prefix (those go through the parser). Parsing costs ~20 µs a
    number, the largest single cost of building an imported person; this check ~3 µs. Whether
    the number is possible is still decided by the library, with the same metadata.
    None: let the parser decide."""
    compact = _SEPARATORS.sub("", value)
    if not _E164.fullmatch(compact):
        return None
    digits = compact[1:]
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[length:]
    prefix = _national_prefix(code)
    if national.startswith("0") or prefix is None or prefix.match(national):
        return None
    number = PhoneNumber(country_code=code, national_number=int(national))
    return compact if phonenumbers.is_possible_number(number) else ""


@cache
def _national_prefix(code: int) -> re.Pattern[str] | None:
    """The pattern of the national prefix the parser would strip after country code `code`
    (one that matches nothing where there is none); None without metadata."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        code, region_code_for_country_code(code)
    )
    if metadata is None:
        return None
    return re.compile(metadata.national_prefix_for_parsing or "(?!)")


def normalise_document(value: str) -> str:
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", value).upper())


def normalise_date(value: date | str) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(value.strip()).isoformat()
