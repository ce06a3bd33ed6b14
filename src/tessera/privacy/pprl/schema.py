"""What to encode: fields, tokenisation and bits per token, readable from clkhash schema v3."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tessera.privacy.errors import PrivacyError

FieldKind = Literal["name", "date", "phone", "text"]
FIELD_KINDS: tuple[FieldKind, ...] = ("name", "date", "phone", "text")
MIN_IDENTIFIERS = 3


KEYED_KINDS: frozenset[FieldKind] = frozenset({"name", "date", "phone"})


@dataclass(frozen=True)
class FieldSpec:
    """One identifier: its column, how to tokenise it, and how many bits each token sets.

    ``keyed`` says whether it takes part in the match keys; by default names, dates and
    phone-like numbers do and free text (addresses) does not.
    """

    column: str
    kind: FieldKind = "text"
    bits_per_token: int = 10
    q: int = 2
    keyed: bool | None = None

    @property
    def is_keyed(self) -> bool:
        """Whether the match keys cover this identifier."""
        return self.kind in KEYED_KINDS if self.keyed is None else self.keyed


@dataclass(frozen=True)
class ClkSchema:
    """A CLK encoding: ``length`` bits, hardened by default by balancing and a keyed permutation.

    Args:
        fields: identifiers to encode; at least three unless ``allow_few_fields``.
        length: bits before balancing; balancing doubles it.
        balance: append the complement so every encoding has the same Hamming weight.
        xor_folds: fold the filter in half this many times (an alternative hardening).
        flip: probability with which each bit is flipped (BLIP, keyed randomised response)
            before balancing; it blurs the similarity graph that graph-matching attacks use.
        match_keys: also emit match keys (:mod:`tessera.privacy.pprl.matchkeys`), which the
            linker compares identifier by identifier (needs two to eight keyed identifiers).
    """

    fields: Sequence[FieldSpec]
    length: int = 512
    balance: bool = True
    xor_folds: int = 0
    flip: float = 0.15
    match_keys: bool = True
    allow_few_fields: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.fields) < MIN_IDENTIFIERS and not self.allow_few_fields:
            raise PrivacyError(
                f"an encoding needs at least {MIN_IDENTIFIERS} identifiers, got {len(self.fields)}"
            )
        if self.length % 64 or self.length <= 0:
            raise PrivacyError("length must be a positive multiple of 64")
        if not 0 <= self.flip < 0.5:
            raise PrivacyError("flip must be in [0, 0.5)")
        if self.length >> self.xor_folds < 64:
            raise PrivacyError("too many xor folds for this length")
        columns = [f.column for f in self.fields]
        if len(set(columns)) != len(columns):
            raise PrivacyError(f"a column is listed twice in {columns}")
        if self.match_keys and len(self.keyed_fields) < 2:
            raise PrivacyError(
                "match keys need at least two keyed identifiers (names, dates or phones); "
                "set match_keys=False to encode a CLK only"
            )

    @property
    def keyed_fields(self) -> list[FieldSpec]:
        """The identifiers the match keys cover, in schema order."""
        return [f for f in self.fields if f.is_keyed]

    @property
    def output_bits(self) -> int:
        """Bits in each emitted encoding."""
        return (self.length >> self.xor_folds) * (2 if self.balance else 1)


def default_schema(columns: Mapping[str, FieldKind]) -> ClkSchema:
    """A schema with sensible bits per token for each kind of identifier."""
    bits = {"name": 6, "date": 10, "phone": 4, "text": 4}
    return ClkSchema([FieldSpec(c, k, bits[k]) for c, k in columns.items()])


_KINDS: dict[str, FieldKind] = {"date": "date", "phone": "phone"}


def schema_from_clkhash(document: Mapping[str, Any] | Path) -> ClkSchema:
    """Read the parts of a clkhash v3 linkage schema that carry over.

    Takes ``clkConfig.l``, ``xorFolds`` and, per feature, the identifier, the q-gram size and
    ``bitsPerToken``. clkhash's own hash functions are not reproduced (ours are keyed BLAKE2b), so
    encodings are not bit-compatible with clkhash's, only the schema is.
    """
    data = json.loads(Path(document).read_text()) if isinstance(document, Path) else document
    if str(data.get("version")) != "3":
        raise PrivacyError("only clkhash schema version 3 is understood")
    config = data.get("clkConfig", {})
    fields = []
    for feature in data.get("features", []):
        if feature.get("ignored"):
            continue
        hashing = feature.get("hashing", {})
        comparison = hashing.get("comparison", {})
        strategy = hashing.get("strategy", {})
        kind: FieldKind = _KINDS.get(feature.get("format", {}).get("type", ""), "text")
        if "name" in feature["identifier"].lower():
            kind = "name"
        fields.append(
            FieldSpec(
                column=feature["identifier"],
                kind=kind,
                bits_per_token=int(strategy.get("bitsPerToken", 10)),
                q=int(comparison.get("n", 2)),
            )
        )
    length = int(config.get("l", 1024))
    keyed = [f for f in fields if f.is_keyed]
    return ClkSchema(
        fields,
        length=length,
        xor_folds=int(config.get("xor_folds", 0)),
        match_keys=len(keyed) >= 2,
    )
