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
    """Lower case with single spaces."""
    return " ".join(value.lower().split())


def phone(value: str) -> str:
    """The last nine digits (a lost or added country code does not matter)."""
    return _NOT_DIGIT.sub("", value)[-PHONE_DIGITS:]


def date(value: str) -> str:
    """Digits as ``YYYYMMDD``; ``DDMMYYYY`` (no leading 19 or 20) is reordered."""
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) == 8 and digits[:2] not in {"19", "20"}:
        digits = digits[4:] + digits[2:4] + digits[:2]
    return digits


NORMALISERS: dict[str, Callable[[str], str]] = {
    "name": name,
    "text": text,
    "phone": phone,
    "date": date,
}


def normalise_column(values: pd.Series, kind: str) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Code of each row's normalised value (``-1`` when missing or empty) and the values.

    Rows whose raw values differ but normalise alike ("Zoë", "zoe ") share a code.
    """
    raw_codes, raw_uniques = pd.factorize(values)
    normaliser = NORMALISERS[kind]
    normalised = [normaliser(str(u).strip()) for u in raw_uniques]
    merged, uniques = pd.factorize(pd.Series(normalised, dtype=object))
    labels = [str(u) for u in uniques]
    kept = [i for i, label in enumerate(labels) if label]
    dense = np.full(len(labels), -1, dtype=np.int64)
    dense[kept] = np.arange(len(kept))
    # A missing raw value has code -1, which picks the -1 appended last.
    per_raw = np.append(dense[merged], -1)
    return per_raw[raw_codes].astype(np.int64), [labels[i] for i in kept]
