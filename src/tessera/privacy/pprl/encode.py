"""Keyed Bloom-filter (CLK) encoding of identifiers, and the match keys beside it.

Each token is hashed with keyed BLAKE2b under a key derived from the linkage secret and the
field, and sets ``bits_per_token`` positions drawn from the digest ("random hashing"), which
avoids the double-hashing weakness that lets an attacker rebuild positions from q-grams.
Tokenisation is vectorised: q-grams of ASCII names, texts and phones become integer codes in
numpy, so Python-level work is one normalisation per distinct value and one hash per distinct
token. Bits are then flipped (keyed randomised response, drawn from the record's seed so that a
record gets the same noise on any row and two records never share theirs), balanced with their
complement and permuted with a keyed permutation, so every encoding has the same Hamming weight.
Encodings are versioned by this scheme (v3): both organisations must use the same release.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl._prf import Prf, Words
from tessera.privacy.pprl.fields import NormalisedField, normalise_fields, record_seeds
from tessera.privacy.pprl.keys import LinkageKey
from tessera.privacy.pprl.matchkeys import VARIANTS_PER_KIND, MatchKeys, match_keys
from tessera.privacy.pprl.schema import ClkSchema

Bits = npt.NDArray[np.uint64]
IntArray = npt.NDArray[np.int64]


def _qgrams(text: str, q: int) -> list[str]:
    padded = f"_{text}_"
    return [padded[i : i + q] for i in range(len(padded) - q + 1)] if text else []


def _date_tokens(value: str, q: int) -> list[str]:
    if len(value) != 8:
        return [f"raw:{value}"] if value else []
    year, month, day = value[:4], value[4:6], value[6:]
    return [f"y{year}", f"m{month}", f"d{day}", f"ym{year}{month}", f"md{month}{day}"]


def _phone_tokens(value: str, q: int) -> list[str]:
    return [value[i : i + q] for i in range(len(value) - q + 1)]


# Tokens of a *normalised* value (see :mod:`tessera.privacy.pprl.normalise`).
TOKENISERS: dict[str, Callable[[str, int], list[str]]] = {
    "name": _qgrams,
    "text": _qgrams,
    "date": _date_tokens,
    "phone": _phone_tokens,
}
_MAX_VECTOR_Q = 4
_DATE_TAGS = ("y", "m", "d", "ym", "md")


def _vector_qgrams(texts: list[str], q: int, pad: bool) -> tuple[IntArray, IntArray] | None:
    """(value index, q-gram code) of every q-gram of ASCII ``texts``; None if one is not ASCII."""
    if not "".join(texts).isascii():
        return None
    padded = np.array([f"_{t}_" if pad and t else t for t in texts], dtype=bytes)
    width = padded.dtype.itemsize
    if width < q or not len(texts):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    matrix = padded.view(np.uint8).reshape(len(texts), width).astype(np.int64)
    grams = width - q + 1
    code = np.zeros((len(texts), grams), dtype=np.int64)
    for i in range(q):
        code = (code << 8) | matrix[:, i : i + grams]
    lengths = np.char.str_len(padded).astype(np.int64)
    valid = np.arange(grams)[None, :] < (lengths - q + 1)[:, None]
    value_index = np.nonzero(valid)[0]
    return value_index.astype(np.int64), code[valid]


def _vector_dates(values: list[str]) -> tuple[IntArray, IntArray, list[bytes]]:
    """The tokens of :func:`_date_tokens`, computed with numpy for 8-digit dates."""
    full = np.array([len(d) == 8 for d in values], dtype=bool)
    number = np.array([int(d) if len(d) == 8 else 0 for d in values], dtype=np.int64)
    year, month, day = number // 10_000, number // 100 % 100, number % 100
    parts = np.stack([year, month, day, year * 100 + month, month * 100 + day], axis=1)
    codes = parts + np.arange(len(_DATE_TAGS), dtype=np.int64)[None, :] * 10**8
    value_index = np.repeat(np.flatnonzero(full), len(_DATE_TAGS))
    token_id, distinct = pd.factorize(codes[full].ravel())
    widths = (4, 2, 2, 6, 4)
    tokens = [
        f"{_DATE_TAGS[c // 10**8]}{c % 10**8:0{widths[c // 10**8]}d}".encode()
        for c in distinct.tolist()
    ]
    raw = [(v, d) for v, d in enumerate(values) if d and len(d) != 8]
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

    def __init__(self, field: NormalisedField, key: LinkageKey, length: int) -> None:
        self.field, self.spec, self.length = field, field.spec, length
        self.key = key.derive(f"field/{field.spec.column}")

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

    def value_tokens(self) -> tuple[IntArray, IntArray, list[bytes]]:
        """(value index, token id) pairs and the bytes of each distinct token."""
        spec, values = self.spec, self.field.values
        if spec.kind != "date" and spec.q <= _MAX_VECTOR_Q:
            found = _vector_qgrams(values, spec.q, pad=spec.kind != "phone")
            if found is not None:
                value_index, codes = found
                token_id, distinct = pd.factorize(codes)
                tokens = [int(c).to_bytes(spec.q, "big") for c in distinct.tolist()]
                return value_index, token_id.astype(np.int64), tokens
        if spec.kind == "date":
            return _vector_dates(values)
        tokenise = TOKENISERS[spec.kind]
        ids: dict[str, int] = {}
        pairs = [
            (v, ids.setdefault(t, len(ids)))
            for v, u in enumerate(values)
            for t in tokenise(u, spec.q)
        ]
        array = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return array[:, 0], array[:, 1], [t.encode() for t in ids]

    def value_runs(self) -> tuple[npt.NDArray[np.int16], IntArray]:
        """Bit positions of each distinct value's tokens as one run, and the runs' offsets.

        Value ``v`` sets ``positions[offsets[v]:offsets[v + 1]]`` (a position may repeat:
        harmless); the last run, for missing values, is empty.
        """
        n_values = len(self.field.values)
        value_index, token_id, tokens = self.value_tokens()
        bpt = self.spec.bits_per_token
        table = np.array([self._positions(t) for t in tokens], dtype=np.int16)
        table = table.reshape(len(tokens), bpt)
        if len(value_index) > 1 and (np.diff(value_index) < 0).any():
            order = np.argsort(value_index, kind="stable")
            value_index, token_id = value_index[order], token_id[order]
        per_value = np.bincount(value_index, minlength=n_values + 1) * bpt
        return table[token_id].ravel(), np.concatenate([[0], np.cumsum(per_value)])


def _set_runs(
    dense: npt.NDArray[np.bool_],
    codes: IntArray,
    positions: npt.NDArray[np.int16],
    offsets: IntArray,
) -> None:
    """Set, in position-major ``dense`` (positions x records), each record's run of positions."""
    records = dense.shape[1]
    codes = np.where(codes >= 0, codes, len(offsets) - 2)
    lengths = (offsets[codes + 1] - offsets[codes]).astype(np.int64)
    total = int(lengths.sum())
    rows = np.repeat(np.arange(records, dtype=np.int32), lengths)
    ends = np.cumsum(lengths)
    starts = np.repeat(offsets[codes] - (ends - lengths), lengths)
    cols = positions[starts + np.arange(total)].astype(np.int32)
    dense.reshape(-1)[cols * records + rows] = True


@dataclass
class EncodedTable:
    """Encodings of one table: opaque record ids, packed CLK bits and the match keys."""

    ids: npt.NDArray[np.object_]
    bits: Bits
    keys: MatchKeys | None = None

    @property
    def n_bits(self) -> int:
        return int(self.bits.shape[1]) * 64


def _flip(dense: npt.NDArray[np.bool_], seeds: Words, probability: float, key: LinkageKey) -> None:
    """Flip each bit of position-major ``dense`` with ``probability``, keyed by record seed.

    Gaps between flips are geometric; they are drawn from a keyed stream per record seed, four
    16-bit uniforms per PRF output, through a lookup table of the geometric quantiles.
    """
    length, records = dense.shape
    uniform = (np.arange(1 << 16) + 0.5) / (1 << 16)
    gaps = (1 + np.floor(np.log(uniform) / math.log1p(-probability))).astype(np.int32)
    mean = length * probability
    per_round = 4 * math.ceil((mean + 6 * math.sqrt(mean) + 8) / 4)
    prf = Prf(key.derive("flip"))
    flat = dense.reshape(-1)
    rows = np.arange(records)
    start = np.zeros(records, dtype=np.int32)
    counter = 0
    while len(rows):
        counters = np.arange(counter, counter + per_round // 4, dtype=np.uint64)
        words = prf.pair(seeds[rows, None], counters[None, :])
        draws = words.view(np.uint16).reshape(len(rows), per_round)
        where = start[:, None] + np.cumsum(gaps[draws], axis=1, dtype=np.int32) - 1
        hit = where < length
        index = where[hit] * records + np.repeat(rows, hit.sum(axis=1))
        flat[index] = ~flat[index]
        unfinished = where[:, -1] < length
        start = where[unfinished, -1] + 1
        rows = rows[unfinished]
        counter += per_round // 4


_CHUNK_RECORDS = 32768  # bit matrices of 16 and 32 MiB, reused chunk after chunk


def _clk(fields: list[NormalisedField], schema: ClkSchema, key: LinkageKey, seeds: Words) -> Bits:
    n, length = len(seeds), schema.length
    folded = length >> schema.xor_folds
    runs = [_FieldHasher(field, key, length).value_runs() for field in fields]
    order = np.random.default_rng(np.frombuffer(key.derive("permutation"), dtype=np.uint32))
    if schema.balance:
        target = np.argsort(order.permutation(2 * folded))
    else:
        permutation = order.permutation(folded)
    out = np.empty((n, schema.output_bits // 64), dtype=np.uint64)
    for first in range(0, n, _CHUNK_RECORDS):
        part = slice(first, min(first + _CHUNK_RECORDS, n))
        records = part.stop - part.start
        # Bits are laid out position-major (one row of records per bit position) so that the
        # keyed permutation below moves whole rows instead of gathering columns.
        dense = np.zeros((length, records), dtype=bool)
        for field, (positions, offsets) in zip(fields, runs, strict=True):
            _set_runs(dense, field.codes[part], positions, offsets)
        for _ in range(schema.xor_folds):
            half = dense.shape[0] // 2
            dense = dense[:half] ^ dense[half:]
        if schema.flip > 0:
            _flip(dense, seeds[part], schema.flip, key)
        if schema.balance:
            mixed = np.empty((2 * folded, records), dtype=bool)
            mixed[target[:folded]] = dense
            mixed[target[folded:]] = ~dense
        else:
            mixed = dense[permutation]
        # Pack 8 position rows into one byte row (big-endian bit order, as np.packbits), then
        # transpose the 8-times smaller byte matrix to one row per record.
        octets = mixed.view(np.uint8).reshape(-1, 8, records)
        packed_t = np.zeros((octets.shape[0], records), dtype=np.uint8)
        for bit in range(8):
            packed_t |= octets[:, bit, :] << np.uint8(7 - bit)
        out[part] = np.ascontiguousarray(packed_t.T).view(np.uint64)
    return out


def encode(
    df: pd.DataFrame, schema: ClkSchema, key: LinkageKey, ids: pd.Series | None = None
) -> EncodedTable:
    """Encode each row of ``df`` into a hardened CLK and, by default, match keys.

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
    if ids is not None and len(ids) != len(df):
        raise PrivacyError(f"{len(ids)} ids for {len(df)} records")
    fields = normalise_fields(df, schema)
    if schema.match_keys:  # hashed once for both the keys and the seeds
        for f in fields:
            if f.spec.is_keyed:
                f.variant_hashes(key, VARIANTS_PER_KIND[f.spec.kind])
    seeds = record_seeds(fields, key)
    bits = _clk(fields, schema, key, seeds)
    keys = None
    if schema.match_keys:
        keyed = [f for f in fields if f.spec.is_keyed]
        keys = match_keys(keyed, key, seeds)
    n = len(df)
    record_ids = np.arange(n).astype(object) if ids is None else ids.astype(str).to_numpy(object)
    return EncodedTable(record_ids, bits, keys)
