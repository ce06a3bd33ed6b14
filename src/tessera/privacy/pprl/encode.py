"""Keyed Bloom-filter (CLK) encoding of identifiers.

Each token is hashed with HMAC-SHA256 under a key derived from the linkage secret and the
field, and sets ``bits_per_token`` positions drawn from the digest ("random hashing"), which
avoids the double-hashing weakness that lets an attacker rebuild positions from q-grams.
Balancing then appends the complement and permutes all bits with a keyed permutation, so every
encoding has the same Hamming weight and the weight no longer leaks the length of a name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl.keys import LinkageKey
from tessera.privacy.pprl.schema import ClkSchema, FieldSpec

Bits = npt.NDArray[np.uint64]
_NOT_LETTER = re.compile(r"[^a-z ]+")
_NOT_DIGIT = re.compile(r"\D+")


def _qgrams(text: str, q: int) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + q] for i in range(len(padded) - q + 1)] if text else []


def _name_tokens(value: str, q: int) -> list[str]:
    cleaned = " ".join(_NOT_LETTER.sub("", value.lower()).split())
    return _qgrams(cleaned, q)


def _text_tokens(value: str, q: int) -> list[str]:
    return _qgrams(" ".join(value.lower().split()), q)


def _date_tokens(value: str, q: int) -> list[str]:
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) != 8:
        return [f"raw:{digits}"] if digits else []
    if digits[:2] not in {"19", "20"}:
        digits = digits[4:] + digits[2:4] + digits[:2]
    year, month, day = digits[:4], digits[4:6], digits[6:]
    return [f"y{year}", f"m{month}", f"d{day}", f"ym{year}{month}", f"md{month}{day}"]


def _phone_tokens(value: str, q: int) -> list[str]:
    digits = _NOT_DIGIT.sub("", value)[-9:]
    return [digits[i : i + q] for i in range(len(digits) - q + 1)]


_TOKENISERS: dict[str, Callable[[str, int], list[str]]] = {
    "name": _name_tokens,
    "text": _text_tokens,
    "date": _date_tokens,
    "phone": _phone_tokens,
}


class _FieldHasher:
    """Positions of the tokens of one field; work is done once per distinct value and token."""

    def __init__(self, spec: FieldSpec, key: LinkageKey, length: int) -> None:
        self.spec, self.length = spec, length
        self.key = key.derive(f"field/{spec.column}")
        self.tokenise = _TOKENISERS[spec.kind]
        self.token_ids: dict[str, int] = {}

    def _positions(self, token: str) -> list[int]:
        needed, block = self.spec.bits_per_token, 0
        found: list[int] = []
        while len(found) < needed:
            digest = hmac.digest(self.key, f"{block}\x1f{token}".encode(), hashlib.sha256)
            words = np.frombuffer(digest, dtype=np.uint16)
            found.extend(int(w) % self.length for w in words[: needed - len(found)])
            block += 1
        return found

    def flat_positions(
        self, values: pd.Series
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Row and bit index of every bit the column sets."""
        codes, uniques = pd.factorize(values)
        per_value = []
        for value in uniques:
            tokens = self.tokenise(str(value), self.spec.q)
            per_value.append([self.token_ids.setdefault(t, len(self.token_ids)) for t in tokens])
        lengths = np.array([len(t) for t in per_value] + [0], dtype=np.int64)
        flat = np.array([t for ts in per_value for t in ts], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        row_lengths = lengths[codes]
        total = int(row_lengths.sum())
        rows = np.repeat(np.arange(len(codes)), row_lengths)
        starts = np.repeat(offsets[codes] - (np.cumsum(row_lengths) - row_lengths), row_lengths)
        token_index = flat[starts + np.arange(total)]
        by_token = sorted(self.token_ids, key=self.token_ids.__getitem__)
        table = np.array([self._positions(t) for t in by_token], dtype=np.int64)
        table = table.reshape(len(by_token), self.spec.bits_per_token)
        bpt = self.spec.bits_per_token
        return np.repeat(rows, bpt), table[token_index].ravel()


@dataclass
class EncodedTable:
    """Encodings of one table: opaque record ids and packed bits (one row per record)."""

    ids: npt.NDArray[np.object_]
    bits: Bits

    @property
    def n_bits(self) -> int:
        return int(self.bits.shape[1]) * 64


def encode(
    df: pd.DataFrame, schema: ClkSchema, key: LinkageKey, ids: pd.Series | None = None
) -> EncodedTable:
    """Encode each row of ``df`` into a hardened CLK.

    Args:
        df: identifiers, one column per schema field; missing values add no bits.
        schema: fields and hardening.
        key: the linkage secret.
        ids: opaque record ids to carry (e.g. a case-party UUID); defaults to row numbers.

    Raises:
        PrivacyError: if a schema column is missing from ``df`` or ``df`` is empty.
    """
    if df.empty:
        raise PrivacyError("the input table is empty")
    missing = [f.column for f in schema.fields if f.column not in df.columns]
    if missing:
        raise PrivacyError(f"unknown column(s) {missing}; columns are {list(df.columns)}")
    n = len(df)
    dense = np.zeros((n, schema.length), dtype=bool)
    flat = dense.reshape(-1)
    for spec in schema.fields:
        stripped = df[spec.column].astype("string").str.strip()
        values = stripped.mask(stripped == "")
        rows, cols = _FieldHasher(spec, key, schema.length).flat_positions(values)
        flat[rows * schema.length + cols] = True
    for _ in range(schema.xor_folds):
        half = dense.shape[1] // 2
        dense = dense[:, :half] ^ dense[:, half:]
    if schema.flip > 0:
        noise = np.random.default_rng(np.frombuffer(key.derive("flip"), dtype=np.uint32))
        dense ^= noise.random(dense.shape, dtype=np.float32) < schema.flip
    if schema.balance:
        dense = np.concatenate([dense, ~dense], axis=1)
    order = np.random.default_rng(np.frombuffer(key.derive("permutation"), dtype=np.uint32))
    dense = dense[:, order.permutation(dense.shape[1])]
    packed = np.ascontiguousarray(np.packbits(dense, axis=1)).view(np.uint64)
    record_ids = np.arange(n).astype(object) if ids is None else ids.astype(str).to_numpy(object)
    return EncodedTable(record_ids, np.ascontiguousarray(packed))
