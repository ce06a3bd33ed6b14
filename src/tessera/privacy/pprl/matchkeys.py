"""Match keys: keyed tokens for "these two identifiers agree", unique within each table.

For every ordered pair of keyed identifiers (i, j) a record emits one token per one-edit variant
of j combined with the exact value of i, and one token saying "i is this value and j is
missing"; for a name and a date, one token per pair of their variants; and one token per
identifier alone. Two records share a token of type (i exact, j variant) when i is equal and j
is within one edit (or, for dates, swapped or equal in two of year, month and day), so the linker
learns per identifier whether it agrees exactly, within one edit, partly, or not at all, and
whether it is missing on both sides (the second-stage comparison of
:mod:`tessera.privacy.pprl.scoring`).

What makes this safe to hand to a linker:

* Tokens are AES-128 outputs under keys derived from the linkage secret (a pseudo-random
  function on 16-byte blocks), so nothing about a value can be computed without the secret.
* A token that two different records of the table share is withdrawn from both, so within one
  table every token is unique: there is no frequency to count and no similarity graph to match.
* Withdrawn tokens, variants a short value does not have, and the tokens of a missing identifier
  are replaced by dummies derived from the record's content, so every record emits the same
  number of tokens and re-encoding the same table gives the same output.
* A token is 56 bits to match on and 8 bits of the record's presence mask (which identifiers it
  has) XORed with 8 more output bits of the same PRF call, which are never published. Within a
  table those 8 bits look random; two records that share the token share the pad, so the linker
  learns for which identifiers their presence *differs* (needed to tell "disagrees" from "missing
  on one side"), and nothing about a record on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl._prf import Prf, Words
from tessera.privacy.pprl.fields import NormalisedField
from tessera.privacy.pprl.keys import LinkageKey

LAYOUT_VERSION = "mk2"
PRESENCE_BITS = 8
MATCH_BITS = np.uint64((1 << (64 - PRESENCE_BITS)) - 1)  # the part of a token compared
VARIANTS_PER_KIND = {"name": 10, "text": 10, "phone": 10, "date": 5}
# Variant slots of each kind grouped by how close an agreement through them is: within one
# edit (or a day-month swap), or only partly (dates: year-month, year-day or month-day).
ONE_EDIT, PARTIAL, MISSING = "one edit", "partial", "missing"
VARIANT_CLASSES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "name": ((ONE_EDIT, 0, 10),),
    "text": ((ONE_EDIT, 0, 10),),
    "phone": ((ONE_EDIT, 0, 10),),
    "date": ((ONE_EDIT, 0, 2), (PARTIAL, 2, 5)),
}


EXACT = "exact"


@dataclass(frozen=True)
class Side:
    """One identifier of a token type: which of its variant slots, and what agreeing means."""

    field: int
    variants: tuple[int, int]
    closeness: str

    @property
    def width(self) -> int:
        return self.variants[1] - self.variants[0]


@dataclass(frozen=True)
class KeyType:
    """Tokens combining one variant of each side; two records share one exactly when every
    side agrees as its ``closeness`` says (the exact value, within one edit, partly)."""

    sides: tuple[Side, ...]
    start: int

    @property
    def slots(self) -> int:
        return int(np.prod([side.width for side in self.sides]))


def _exact(field: int) -> Side:
    return Side(field, (0, 1), EXACT)


def _missing(field: int) -> Side:
    return Side(field, (0, 1), MISSING)


def _fuzzy(field: int, kind: str) -> list[Side]:
    return [Side(field, (low, high), c) for c, low, high in VARIANT_CLASSES[kind]]


@dataclass(frozen=True)
class KeyLayout:
    """Which keyed identifiers (by kind) a table's tokens cover, and where each type sits.

    Types: for every ordered pair of identifiers, the first exact and the second through
    each class of its variants, and the first exact with the second missing; for a name and a
    date, both through their variants (two identifiers each mistyped once); and every
    identifier alone, exact.
    """

    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in VARIANTS_PER_KIND]
        if unknown:
            raise PrivacyError(f"match keys: unknown identifier kinds {unknown}")
        if len(self.kinds) < 2:
            raise PrivacyError("match keys need at least two keyed identifiers")
        if len(self.kinds) > PRESENCE_BITS:
            raise PrivacyError(f"match keys support at most {PRESENCE_BITS} keyed identifiers")

    @cached_property
    def types(self) -> tuple[KeyType, ...]:
        kinds, count = self.kinds, len(self.kinds)
        combos: list[tuple[Side, ...]] = []
        for i in range(count):
            for j in range(i + 1, count):
                for first, second in ((i, j), (j, i)):
                    combos += [(_exact(first), side) for side in _fuzzy(second, kinds[second])]
                    combos.append((_exact(first), _missing(second)))
                if {kinds[i], kinds[j]} == {"name", "date"}:
                    name, date = (i, j) if kinds[i] == "name" else (j, i)
                    combos += [(_fuzzy(name, "name")[0], side) for side in _fuzzy(date, "date")[:1]]
        combos += [(_exact(i),) for i in range(count)]
        found, start = [], 0
        for sides in combos:
            kt = KeyType(sides, start)
            found.append(kt)
            start += kt.slots
        return tuple(found)

    @property
    def width(self) -> int:
        """Tokens per record."""
        last = self.types[-1]
        return last.start + last.slots

    def describe(self) -> str:
        """Text form carried with encoded files, e.g. ``mk1:name,name,date,phone``."""
        return f"{LAYOUT_VERSION}:{','.join(self.kinds)}"

    @classmethod
    def parse(cls, text: str) -> KeyLayout:
        """Read :meth:`describe`'s form, naming what is wrong."""
        version, _, kinds = text.partition(":")
        if version != LAYOUT_VERSION or not kinds:
            raise PrivacyError(f"unknown match-key layout {text!r} (expected {LAYOUT_VERSION}:…)")
        return cls(tuple(kinds.split(",")))


@dataclass
class MatchKeys:
    """Tokens, one row per record and ``layout.width`` columns."""

    layout: KeyLayout
    tokens: Words


def match_keys(fields: list[NormalisedField], key: LinkageKey, seeds: Words) -> MatchKeys:
    """Tokens of every record for the keyed identifiers ``fields``."""
    layout = KeyLayout(tuple(f.spec.kind for f in fields))
    n = len(seeds)
    # Equal records (equal seeds) are one record here: they share all tokens, as they should.
    _, first_rows, seed_index = np.unique(seeds, return_index=True, return_inverse=True)
    twin = first_rows[seed_index]  # the first row holding the same record
    per_row = [_variants_per_row(f, key) for f in fields]
    held = np.stack([f.codes >= 0 for f in fields], axis=1)
    presence = (held.astype(np.uint64) << np.arange(len(fields), dtype=np.uint64)).sum(axis=1)
    tokens = np.empty((n, layout.width), dtype=np.uint64)
    real = np.empty((n, layout.width), dtype=bool)
    for tag, kt in enumerate(layout.types):
        prf = Prf(key.derive(f"keys/type/{tag}"))
        span = slice(kt.start, kt.start + kt.slots)
        # In slices of rows: the blocks and halves of one slice stay small and are reused.
        for first_row in range(0, n, _CHUNK_ROWS):
            rows = slice(first_row, min(first_row + _CHUNK_ROWS, n))
            made, valid = _tokens_of(kt, prf, per_row, held, presence, key, rows)
            tokens[rows, span] = made
            real[rows, span] = valid
        lead = kt.sides[0]
        exact_codes = fields[lead.field].codes if lead.closeness == EXACT else None
        shared = _shared_within(tokens[:, span] & MATCH_BITS, real[:, span], exact_codes, twin)
        real[:, span] &= ~shared
    dummy = Prf(key.derive("keys/dummy"))
    slots = np.arange(layout.width, dtype=np.uint64)
    step = max((1 << 17) // layout.width, 1)
    for start in range(0, n, step):
        part = slice(start, start + step)
        fill = ~real[part]
        owners = np.broadcast_to(seeds[part, None], fill.shape)[fill]
        tokens[part][fill] = dummy.pair(owners, np.broadcast_to(slots, fill.shape)[fill])
    return MatchKeys(layout, tokens)


_CHUNK_ROWS = 8192


def _tokens_of(
    kt: KeyType,
    prf: Prf,
    per_row: list[tuple[Words, npt.NDArray[np.bool_]]],
    held: npt.NDArray[np.bool_],
    presence: Words,
    key: LinkageKey,
    rows: slice,
) -> tuple[Words, npt.NDArray[np.bool_]]:
    """Tokens of type ``kt`` for ``rows`` (before withdrawal), and which are real."""
    count = rows.stop - rows.start
    parts = [
        (
            per_row[side.field][0][rows, slice(*side.variants)],
            per_row[side.field][1][rows, slice(*side.variants)],
        )
        if side.closeness != MISSING
        else (
            np.full((count, 1), _missing_value(key, side.field)),
            ~held[rows, side.field : side.field + 1],
        )
        for side in kt.sides
    ]
    if len(parts) == 1:
        parts.append((np.zeros((count, 1), dtype=np.uint64), np.ones((count, 1), dtype=bool)))
    (first, first_valid), (second, second_valid) = parts
    low, high = prf.pair_halves(first[:, :, None], second[:, None, :])
    # 56 bits to match on; 8 bits of presence under a pad only token-sharers know.
    pad = (high.reshape(count, kt.slots) ^ presence[rows, None]) << np.uint64(64 - PRESENCE_BITS)
    made = (low.reshape(count, kt.slots) & MATCH_BITS) | pad
    valid = (first_valid[:, :, None] & second_valid[:, None, :]).reshape(count, kt.slots)
    return made, valid


def _variants_per_row(
    field: NormalisedField, key: LinkageKey
) -> tuple[Words, npt.NDArray[np.bool_]]:
    """Each row's variant hashes (rows missing the identifier have none valid)."""
    hashes, valid = field.variant_hashes(key, VARIANTS_PER_KIND[field.spec.kind])
    if not len(hashes):
        hashes = np.zeros((1, valid.shape[1]), np.uint64)
        valid = np.zeros((1, valid.shape[1]), bool)
    codes = np.maximum(field.codes, 0)
    return hashes[codes], valid[codes] & (field.codes >= 0)[:, None]


def _missing_value(key: LinkageKey, field: int) -> np.uint64:
    """The hash standing for "this identifier is missing" (one per identifier and secret)."""
    zero = np.zeros(1, np.uint64)
    return np.uint64(Prf(key.derive(f"keys/missing/{field}")).pair(zero, zero)[0])


def _shared_within(
    made: Words,
    valid: npt.NDArray[np.bool_],
    exact_codes: npt.NDArray[np.int64] | None,
    twins: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Which tokens of one type two different records share (to be withdrawn).

    ``twins[r]`` is the first row holding the same record as row ``r`` (itself if none):
    only first rows are compared and the others copy their verdict. When the type compares an
    identifier exactly, two records can share a token only if they have the same value of it,
    so only records whose value another record has are looked at.
    """
    first = twins == np.arange(len(twins))
    if exact_codes is None:
        suspect = first
    else:
        held = exact_codes >= 0
        counts = np.bincount(
            exact_codes[first & held], minlength=max(int(exact_codes.max(initial=0)) + 1, 1)
        )
        suspect = first & held & (counts[np.maximum(exact_codes, 0)] > 1)
    shared = np.zeros(made.shape, dtype=bool)
    if suspect.any():
        looked = made[suspect]
        mask = valid[suspect]
        repeated = _repeated(looked[mask])
        verdict = np.zeros(looked.shape, dtype=bool)
        verdict[mask] = repeated
        shared[suspect] = verdict
    return shared[twins]


def _repeated(values: Words) -> npt.NDArray[np.bool_]:
    """Which values occur more than once (a sort, then a bitmap so few values are searched)."""
    ordered = np.sort(values)
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    out = np.zeros(len(values), dtype=bool)
    if not len(twice):
        return out
    bits = max(len(values).bit_length() + 3, 10)
    low = np.uint64((1 << bits) - 1)
    marked = np.zeros(1 << bits, dtype=bool)
    marked[(twice & low).astype(np.int64)] = True
    maybe = np.flatnonzero(marked[(values & low).astype(np.int64)])
    where = np.minimum(np.searchsorted(twice, values[maybe]), len(twice) - 1)
    out[maybe] = twice[where] == values[maybe]
    return out
