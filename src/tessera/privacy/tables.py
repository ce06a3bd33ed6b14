"""Reading and writing tables as CSV or Parquet, chosen by the file extension."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tessera.privacy.errors import PrivacyError


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV (all columns as text) or Parquet file, refusing a missing or empty one."""
    path = Path(path)
    if not path.exists():
        raise PrivacyError(f"input file {path} not found")
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame = pd.read_parquet(path)
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=True)
        except pd.errors.EmptyDataError:
            raise PrivacyError(f"input file {path} is empty") from None
    if frame.empty:
        raise PrivacyError(f"input file {path} has no rows")
    return frame


def write_table(frame: pd.DataFrame, path: Path | str) -> None:
    """Write CSV or Parquet by extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
