"""Phone numbers already in international form skip the parser; the result must not change."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from tessera.vault.normalise import normalise_phone, parse_phone

CODES = sorted(COUNTRY_CODE_TO_REGION_CODE)
REGIONS = [None, "GB", "US", "TH", "IT", "RU"]


@st.composite
def international(draw: st.DrawFn) -> str:
    code = str(draw(st.sampled_from(CODES)))
    national = draw(st.text("0123456789", min_size=1, max_size=16))
    digits = code + national
    # Spaces and hyphens where people put them.
    cuts = sorted(draw(st.lists(st.integers(0, len(digits)), max_size=4)))
    parts, last = [], 0
    for cut in cuts:
        parts.append(digits[last:cut])
        last = cut
    parts.append(digits[last:])
    return "+" + draw(st.sampled_from([" ", "-", ""])).join(parts)


@settings(max_examples=3000, deadline=None)
@given(international(), st.sampled_from(REGIONS))
def test_international_numbers_normalise_as_the_parser_does(value: str, region: str | None) -> None:
    assert normalise_phone(value, region) == parse_phone(value, region)


def test_numbers_the_parser_rewrites_still_go_through_it() -> None:
    assert normalise_phone("+44 07700 900123") == "+447700900123"  # national prefix
    assert normalise_phone("+39 06 1234 5678") == "+390612345678"  # Italian leading zero
    assert normalise_phone("+44 7700 900123") == "+447700900123"
    assert normalise_phone("+44 77") == ""  # not a possible number
