"""Locate the read-only shared/ folder (reference data) for generators, tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_dir() -> Path | None:
    """Return the shared/ folder, or None when it is absent.

    Looks at ``TESSERA_SHARED_DIR``, then ``<repo root>/../shared``, then ``/work/shared``.
    """
    candidates = []
    if env := os.environ.get("TESSERA_SHARED_DIR"):
        candidates.append(Path(env))
    candidates += [_REPO_ROOT.parent / "shared", Path("/work/shared")]
    for path in candidates:
        if (path / "data").is_dir():
            return path
    return None


def ctdc_vp_dir() -> Path | None:
    """Return the CTDC victim-perpetrator synthetic data folder, or None when absent."""
    root = shared_dir()
    path = root / "data" / "ctdc_vp_synthetic_2022" if root else None
    return path if path is not None and path.is_dir() else None
