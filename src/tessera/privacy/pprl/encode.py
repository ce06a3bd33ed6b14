"""Keyed Bloom-filter (CLK) encoding of identifiers.

Each token is hashed with keyed BLAKE2b under a key derived from the linkage secret and the
field, and sets ``bits_per_token`` positions drawn from the digest ("random hashing"), which
avoids the double-hashing weakness that lets an attacker rebuild positions from q-grams.
Tokenisation is vectorised: q-grams of ASCII names, texts and phones become integer codes in
numpy, so Python-level work is one normalisation per distinct value and one hash per distinct
token. Encodings are versioned by this scheme (v2): both organisations must use the same
release of the encoder.
Balancing then appends the complement and permutes all bits with a keyed permutation, so every
encoding has the same Hamming weight and the weight no longer leaks the length of a name.
"""

from __future__ import annotations

import hashlib
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


_VECTOR_KINDS = {"name", "text", "phone"}
_MAX_VECTOR_Q = 4


def _normalise(kind: str, value: str) -> str:
    if kind == "name":
        return " ".join(_NOT_LETTER.sub("", value.lower()).split())
    if kind == "text":
        return " ".join(value.lower().split())
    return _NOT_DIGIT.sub("", value)[-9:]


def _vector_qgrams(
    texts: list[str], q: int, pad: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """(value index, q-gram code) of every q-gram of ASCII ``texts``; None if one is not ASCII."""
    raw = [f"_{t}_".encode() if pad and t else t.encode() for t in texts]
    if any(len(r) != len(t) + (2 if pad and t else 0) for r, t in zip(raw, texts, strict=True)):
        return None
    width = max((len(r) for r in raw), default=0)
    if width < q:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    matrix = np.frombuffer(b"".join(r.ljust(width, b"\0") for r in raw), dtype=np.uint8)
    matrix = matrix.reshape(len(raw), width).astype(np.int64)
    grams = width - q + 1
    code = np.zeros((len(raw), grams), dtype=np.int64)
    for i in range(q):
        code = (code << 8) | matrix[:, i : i + grams]
    lengths = np.fromiter((len(r) for r in raw), dtype=np.int64, count=len(raw))
    valid = np.arange(grams)[None, :] < (lengths - q + 1)[:, None]
    value_index = np.nonzero(valid)[0]
    return value_index.astype(np.int64), code[valid]


_DATE_TAGS = ("y", "m", "d", "ym", "md")


def _date_digits(value: str) -> str:
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) == 8 and digits[:2] not in {"19", "20"}:
        digits = digits[4:] + digits[2:4] + digits[:2]
    return digits


def _vector_dates(
    uniques: list[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[bytes]]:
    """The tokens of :func:`_date_tokens`, computed with numpy for 8-digit dates."""
    digits = [_date_digits(u) for u in uniques]
    full = np.array([len(d) == 8 for d in digits], dtype=bool)
    number = np.array([int(d) if len(d) == 8 else 0 for d in digits], dtype=np.int64)
    year, month, day = number // 10_000, number // 100 % 100, number % 100
    parts = np.stack([year, month, day, year * 100 + month, month * 100 + day], axis=1)
    codes = parts + np.arange(len(_DATE_TAGS), dtype=np.int64)[None, :] * 10**8
    value_index = np.repeat(np.flatnonzero(full), len(_DATE_TAGS))
    codes = codes[full].ravel()
    raw = [(v, d) for v, d in enumerate(digits) if d and len(d) != 8]
    token_id, distinct = pd.factorize(codes)
    widths = (4, 2, 2, 6, 4)
    tokens = [
        f"{_DATE_TAGS[c // 10**8]}{c % 10**8:0{widths[c // 10**8]}d}".encode()
        for c in distinct.tolist()
    ]
    if raw:
        raw_ids = {d: i for i, d in enumerate(dict.fromkeys(d for _, d in raw))}
        value_index = np.concatenate([value_index, np.array([v for v, _ in raw])])
        extra = np.array([raw_ids[d] for _, d in raw], dtype=np.int64) + len(tokens)
        token_id = np.concatenate([token_id, extra])
        tokens += [f"raw:{d}".encode() for d in raw_ids]
    return value_index.astype(np.int64), np.asarray(token_id, dtype=np.int64), tokens


class _FieldHasher:
    """Bit positions of one field's tokens; work is done once per distinct value and token.

    Positions come from keyed BLAKE2b (``hashlib.blake2b(key=...)``, a keyed PRF like
    HMAC-SHA256 but one compression call per token instead of four): each 64-byte digest
    gives 32 16-bit words, one position per word ("random hashing", no double hashing).
    """

    def __init__(self, spec: FieldSpec, key: LinkageKey, length: int) -> None:
        self.spec, self.length = spec, length
        self.key = key.derive(f"field/{spec.column}")
        self.tokenise = _TOKENISERS[spec.kind]

    def _positions(self, token: bytes) -> list[int]:
        needed, block = self.spec.bits_per_token, 0
        found: list[int] = []
        while len(found) < needed:
            digest = hashlib.blake2b(
                token, key=self.key, digest_size=64, salt=block.to_bytes(16, "little")
            ).digest()
            words = np.frombuffer(digest, dtype=np.uint16)
            found.extend(int(w) % self.length for w in words[: needed - len(found)])
            block += 1
        return found

    def _value_tokens(
        self, uniques: list[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[bytes]]:
        """(value index, token id) pairs and the bytes of each distinct token."""
        spec = self.spec
        if spec.kind in _VECTOR_KINDS and spec.q <= _MAX_VECTOR_Q:
            texts = [_normalise(spec.kind, u) for u in uniques]
            found = _vector_qgrams(texts, spec.q, pad=spec.kind != "phone")
            if found is not None:
                value_index, codes = found
                token_id, distinct = pd.factorize(codes)
                tokens = [int(c).to_bytes(spec.q, "big") for c in distinct.tolist()]
                return value_index, token_id.astype(np.int64), tokens
        if spec.kind == "date":
            return _vector_dates(uniques)
        ids: dict[str, int] = {}
        pairs = [
            (v, ids.setdefault(t, len(ids)))
            for v, u in enumerate(uniques)
            for t in self.tokenise(u, spec.q)
        ]
        array = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return array[:, 0], array[:, 1], [t.encode() for t in ids]

    def flat_positions(
        self, values: pd.Series
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Row and bit index of every bit the column sets (a pair may repeat)."""
        codes, uniques = pd.factorize(values)
        value_index, token_id, tokens = self._value_tokens([str(u).strip() for u in uniques])
        bpt = self.spec.bits_per_token
        table = np.array([self._positions(t) for t in tokens], dtype=np.int64)
        table = table.reshape(len(tokens), bpt)
        # Distinct (value, position) pairs, then one run of positions per value.
        present = np.zeros((len(uniques) + 1) * self.length, dtype=bool)
        present[np.repeat(value_index, bpt) * self.length + table[token_id].ravel()] = True
        keys = np.flatnonzero(present)
        per_value = np.bincount(keys // self.length, minlength=len(uniques) + 1)
        offsets = np.concatenate([[0], np.cumsum(per_value)])
        codes = np.where(codes < 0, len(uniques), codes)
        row_lengths = per_value[codes]
        total = int(row_lengths.sum())
        rows = np.repeat(np.arange(len(codes)), row_lengths)
        starts = np.repeat(offsets[codes] - (np.cumsum(row_lengths) - row_lengths), row_lengths)
        return rows, keys[starts + np.arange(total)] % self.length


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
    n, length = len(df), schema.length
    folded = length >> schema.xor_folds
    # Bits are laid out position-major (one row of n records per bit position) so that the
    # keyed permutation below moves whole rows instead of gathering columns.
    dense = np.zeros((length, n), dtype=bool)
    flat = dense.reshape(-1)
    for spec in schema.fields:
        rows, cols = _FieldHasher(spec, key, length).flat_positions(df[spec.column])
        flat[cols * n + rows] = True
    for _ in range(schema.xor_folds):
        half = dense.shape[0] // 2
        dense = dense[:half] ^ dense[half:]
    if schema.flip > 0:
        # Each bit flips independently with probability ``flip``: gaps between flipped bits
        # are geometric, so only the flipped positions are drawn.
        noise = np.random.default_rng(np.frombuffer(key.derive("flip"), dtype=np.uint32))
        cells = folded * n
        expected = cells * schema.flip
        draws = int(expected + 8 * np.sqrt(expected) + 64)
        where = np.cumsum(noise.geometric(schema.flip, draws)) - 1
        while where[-1] < cells:
            more = np.cumsum(noise.geometric(schema.flip, draws)) + where[-1]
            where = np.concatenate([where, more])
        where = where[where < cells]
        flipped = dense.reshape(-1)
        flipped[where] = ~flipped[where]
    order = np.random.default_rng(np.frombuffer(key.derive("permutation"), dtype=np.uint32))
    if schema.balance:
        target = np.argsort(order.permutation(2 * folded))
        out = np.empty((2 * folded, n), dtype=bool)
        out[target[:folded]] = dense
        out[target[folded:]] = ~dense
    else:
        out = dense[order.permutation(folded)]
    # Pack 8 position rows into one byte row (big-endian bit order, as np.packbits), then
    # transpose the 8-times smaller byte matrix to one row per record.
    octets = out.view(np.uint8).reshape(-1, 8, n)
    packed_t = np.zeros((octets.shape[0], n), dtype=np.uint8)
    for bit in range(8):
        packed_t |= octets[:, bit, :] << np.uint8(7 - bit)
    packed = np.ascontiguousarray(packed_t.T).view(np.uint64)
    record_ids = np.arange(n).astype(object) if ids is None else ids.astype(str).to_numpy(object)
    return EncodedTable(record_ids, np.ascontiguousarray(packed))
