"""Encoded tables on disk: CSV or Parquet with an opaque id and the base64 CLK, as clkhash emits."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import numpy as np
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl.encode import EncodedTable


def to_frame(table: EncodedTable) -> pd.DataFrame:
    """Columns ``id`` and ``clk`` (base64 of the filter bytes)."""
    raw = table.bits.view(np.uint8)
    clks = [base64.b64encode(row.tobytes()).decode("ascii") for row in raw]
    return pd.DataFrame({"id": table.ids, "clk": clks})


def from_frame(frame: pd.DataFrame, source: str = "input") -> EncodedTable:
    """Parse ``id``/``clk`` columns back into packed bits."""
    if not {"id", "clk"} <= set(frame.columns):
        raise PrivacyError(f"{source}: an encoded table needs 'id' and 'clk' columns")
    try:
        raw = [base64.b64decode(str(c), validate=True) for c in frame["clk"]]
    except binascii.Error:
        raise PrivacyError(f"{source}: a 'clk' value is not base64") from None
    lengths = {len(r) for r in raw}
    if len(lengths) != 1 or next(iter(lengths)) % 8:
        raise PrivacyError(f"{source}: encodings have different or odd lengths")
    bits = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), -1).view(np.uint64)
    return EncodedTable(frame["id"].astype(str).to_numpy(object), np.ascontiguousarray(bits))


def read_encoded(path: Path) -> EncodedTable:
    """Read an encoded CSV or Parquet file."""
    from tessera.privacy.tables import read_table

    return from_frame(read_table(path), str(path))
