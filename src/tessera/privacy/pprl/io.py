"""Encoded tables on disk: CSV or Parquet with an opaque id and the base64 CLK, as clkhash emits.

With match keys two more columns follow: ``keys`` (base64 of the tokens, 8 bytes each) and
``layout`` (which identifiers the keys cover, the same on every row).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import numpy as np
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl.encode import EncodedTable
from tessera.privacy.pprl.matchkeys import KeyLayout, MatchKeys


def _b64(rows: np.ndarray) -> list[str]:
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in rows]


def to_frame(table: EncodedTable) -> pd.DataFrame:
    """Columns ``id`` and ``clk`` (base64 of the filter bytes), then the match keys if any."""
    frame = pd.DataFrame({"id": table.ids, "clk": _b64(table.bits.view(np.uint8))})
    if table.keys is not None:
        frame["keys"] = _b64(table.keys.tokens.astype("<u8").view(np.uint8))
        frame["layout"] = table.keys.layout.describe()
    return frame


def _decode(column: pd.Series, name: str, source: str) -> np.ndarray:
    try:
        raw = [
            bytes(c)
            if isinstance(c, bytes | bytearray)
            else base64.b64decode(str(c), validate=True)
            for c in column
        ]
    except binascii.Error:
        raise PrivacyError(f"{source}: a '{name}' value is not base64") from None
    lengths = {len(r) for r in raw}
    if len(lengths) != 1 or next(iter(lengths)) % 8 or not next(iter(lengths)):
        raise PrivacyError(f"{source}: '{name}' values have different or odd lengths")
    return np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), -1)


def _keys(frame: pd.DataFrame, source: str) -> MatchKeys | None:
    wanted = {"keys", "layout"}
    found = wanted & set(frame.columns)
    if not found:
        return None
    if found != wanted:
        raise PrivacyError(f"{source}: match keys need all of {sorted(wanted)}")
    layouts = set(frame["layout"].astype(str))
    if len(layouts) != 1:
        raise PrivacyError(f"{source}: rows have different match-key layouts {sorted(layouts)}")
    layout = KeyLayout.parse(layouts.pop())
    tokens = _decode(frame["keys"], "keys", source).view("<u8").astype(np.uint64)
    if tokens.shape[1] != layout.width:
        raise PrivacyError(
            f"{source}: {tokens.shape[1]} match keys per record, the layout needs {layout.width}"
        )
    return MatchKeys(layout, np.ascontiguousarray(tokens))


def from_frame(frame: pd.DataFrame, source: str = "input") -> EncodedTable:
    """Parse the columns written by :func:`to_frame` back into an encoded table."""
    if not {"id", "clk"} <= set(frame.columns):
        raise PrivacyError(f"{source}: an encoded table needs 'id' and 'clk' columns")
    bits = _decode(frame["clk"], "clk", source).view(np.uint64)
    ids = frame["id"].astype(str).to_numpy(object)
    return EncodedTable(ids, np.ascontiguousarray(bits), _keys(frame, source))


def read_encoded(path: Path) -> EncodedTable:
    """Read an encoded CSV or Parquet file."""
    from tessera.privacy.tables import read_table

    return from_frame(read_table(path), str(path))
