"""Fixtures for the privacy library tests: shared/ data (skipped when absent) and generated data.

Self-contained: no Django and no settings are needed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tessera.privacy._shared import ctdc_vp_dir, shared_dir
from tessera.privacy.demo_data import generate_cases


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_dir()
    if root is None:
        pytest.skip("shared/ not found (set TESSERA_SHARED_DIR or place it beside the repo)")
    return root


@pytest.fixture(scope="session")
def ctdc_vp_path() -> Path:
    folder = ctdc_vp_dir()
    if folder is None:
        pytest.skip("shared/data/ctdc_vp_synthetic_2022 not found")
    return folder


@pytest.fixture(scope="session")
def ctdc_vp(ctdc_vp_path: Path) -> pd.DataFrame:
    return pd.read_csv(ctdc_vp_path / "CTDC_VPsynthetic_condensed.csv", dtype=str)


@pytest.fixture(scope="session")
def cases() -> pd.DataFrame:
    return generate_cases(20_000, seed=7)
