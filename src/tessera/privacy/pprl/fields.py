"""Identifiers of a table normalised once, and the keyed seed of each record."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.pprl import _variants
from tessera.privacy.pprl._prf import Prf, Words
from tessera.privacy.pprl.keys import LinkageKey
from tessera.privacy.pprl.normalise import normalise_column
from tessera.privacy.pprl.schema import ClkSchema, FieldSpec

IntArray = npt.NDArray[np.int64]


@dataclass
class NormalisedField:
    """One identifier column: each row's distinct-value code (-1: missing) and the values."""

    spec: FieldSpec
    codes: IntArray
    values: list[str]
    _hashed: dict[tuple[bytes, int], tuple[Words, npt.NDArray[np.bool_]]] = field(
        default_factory=dict, repr=False
    )

    def variant_hashes(self, key: LinkageKey, cap: int) -> tuple[Words, npt.NDArray[np.bool_]]:
        """Keyed hash of up to ``cap`` variants of each distinct value, and which exist.

        Slot 0 is the value itself; see :mod:`tessera.privacy.pprl._variants`.
        """
        for (secret, done), (hashes, valid) in self._hashed.items():
            if secret == key.secret and done >= cap:
                return hashes[:, :cap], valid[:, :cap]
        column = self.spec.column
        blocks, valid = _variants.variant_blocks(
            self.spec.kind, self.values, cap, key.derive(f"long-value/{column}")
        )
        flat = blocks.reshape(-1, _variants.BLOCK)
        hashes = Prf(key.derive(f"value/{column}"))(flat).reshape(len(self.values), cap)
        self._hashed[(key.secret, cap)] = (hashes, valid)
        return hashes, valid


def normalise_fields(df: pd.DataFrame, schema: ClkSchema) -> list[NormalisedField]:
    """Every schema identifier of ``df``, normalised by its kind."""
    return [
        NormalisedField(spec, *normalise_column(df[spec.column], spec.kind))
        for spec in schema.fields
    ]


def record_seeds(fields: list[NormalisedField], key: LinkageKey) -> Words:
    """A keyed 64-bit digest of each record's normalised identifiers.

    Equal records get equal seeds; the seed drives every pseudo-random choice made for a record
    (bit flips, dummy tokens), so re-encoding a table gives the same output,
    a record gets the same noise whichever row it is on, and different records get independent
    noise.
    """
    seed = np.zeros(len(fields[0].codes), dtype=np.uint64)
    for position, column in enumerate(fields):
        hashes = column.variant_hashes(key, 1)[0][:, 0]
        missing = np.uint64(position + 1)
        per_row = (
            hashes[np.maximum(column.codes, 0)] if len(hashes) else np.zeros(len(seed), np.uint64)
        )
        link = Prf(key.derive(f"seed/{position}"))
        seed = link.pair(seed, np.where(column.codes >= 0, per_row, missing))
    return seed
