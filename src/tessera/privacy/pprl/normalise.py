"""Normalised identifier values: what the CLK and the match keys both encode.

Names keep letters of every script (an Arabic or Cyrillic name is not dropped): accents are
removed by Unicode decomposition, case is folded, and everything that is not a letter or a space
goes. Dates become ``YYYYMMDD`` where they can (``DD/MM/YYYY`` is reordered), phones their last
nine digits, free text is lower-cased with single spaces. Work is done once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

_NOT_ASCII_LETTER = re.compile(r"[^a-z ]+")
_NOT_DIGIT = re.compile(r"\D+")
PHONE_DIGITS = 9


def name(value: str) -> str:
    """Letters and single spaces, accents removed, case folded."""
    lowered = value.lower()
    if lowered.isascii():
        return " ".join(_NOT_ASCII_LETTER.sub("", lowered).split())
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    kept = "".join(c if c.isalpha() else " " if c.isspace() else "" for c in bare)
    return " ".join(kept.split())


def text(value: str) -> str:
    """Lower case with single spaces (NUL characters dropped)."""
    return " ".join(value.replace("\0", "").lower().split())


def _digits(value: str) -> str:
    """The digits of ``value`` as ASCII (Arabic-Indic and other decimal digits included)."""
    if value.isascii():
        return _NOT_DIGIT.sub("", value)
    return "".join(
        str(unicodedata.decimal(c)) for c in value if unicodedata.decimal(c, None) is not None
    )


def phone(value: str) -> str:
    """The last nine digits (a lost or added country code does not matter)."""
    return _digits(value)[-PHONE_DIGITS:]


def date(value: str) -> str:
    """Digits as ``YYYYMMDD``; ``DDMMYYYY`` (no leading 19 or 20) is reordered."""
    digits = _digits(value)
    if len(digits) == 8 and digits[:2] not in {"19", "20"}:
        digits = digits[4:] + digits[2:4] + digits[:2]
    return digits


NORMALISERS: dict[str, Callable[[str], str]] = {
    "name": name,
    "text": text,
    "phone": phone,
    "date": date,
}


_ASCII_SPACE = r"[ \t\n\r\f\v\x1c-\x1f]+"  # what str.split() splits ASCII text on


def _ascii_normalised(texts: pa.Array, kind: str) -> pa.Array:
    """The normalisers above for ASCII values, as Arrow compute kernels (same results)."""
    if kind in {"name", "text"}:
        texts = pc.utf8_lower(pc.replace_substring(texts, pattern="\0", replacement=""))
        if kind == "name":
            texts = pc.replace_substring_regex(texts, pattern="[^a-z ]+", replacement="")
        texts = pc.replace_substring_regex(texts, pattern=_ASCII_SPACE, replacement=" ")
        return pc.replace_substring_regex(texts, pattern="^ | $", replacement="")
    digits = pc.replace_substring_regex(texts, pattern=r"\D+", replacement="")
    if kind == "phone":
        return pc.utf8_slice_codeunits(digits, start=-PHONE_DIGITS)
    reorder = pc.and_(
        pc.equal(pc.utf8_length(digits), 8),
        pc.invert(pc.match_substring_regex(digits, pattern="^(19|20)")),
    )
    swapped = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(digits, 4, 8),
        pc.utf8_slice_codeunits(digits, 2, 4),
        pc.utf8_slice_codeunits(digits, 0, 2),
        "",
    )
    return pc.if_else(reorder, swapped, digits)


def normalise_column(values: pd.Series, kind: str) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Code of each row's normalised value (``-1`` when missing or empty) and the values.

    Rows whose raw values differ but normalise alike ("Zoë", "zoe ") share a code.
    """
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")  # phone numbers read as floats: no "1.0"
    # Arrow, not pandas, tells distinct values apart: pandas takes "\0x" for "".
    encoded = pa.array(values, from_pandas=True).dictionary_encode()
    raw_codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    raw_uniques = encoded.dictionary.to_pylist()
    texts = pa.array([u if isinstance(u, str) else str(u) for u in raw_uniques], type=pa.string())
    ascii_mask = pc.string_is_ascii(texts).to_numpy(zero_copy_only=False)
    normalised = _ascii_normalised(texts, kind).to_numpy(zero_copy_only=False)
    normaliser = NORMALISERS[kind]
    for i in np.flatnonzero(~ascii_mask).tolist():
        normalised[i] = normaliser(str(raw_uniques[i]).strip())
    merged, uniques = pd.factorize(normalised)
    labels = [str(u) for u in uniques]
    kept = [i for i, label in enumerate(labels) if label]
    dense = np.full(len(labels), -1, dtype=np.int64)
    dense[kept] = np.arange(len(kept))
    # A missing raw value has code -1, which picks the -1 appended last.
    per_raw = np.append(dense[merged], -1)
    return per_raw[raw_codes].astype(np.int64), [labels[i] for i in kept]
