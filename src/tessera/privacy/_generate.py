"""Generate ``data/un_regions.csv`` from the CTDC dictionary's Region sheet.

Run ``python -m tessera.privacy._generate`` after the reference changes; a test checks the
committed file still matches the source when shared/ is present.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from tessera.privacy._shared import ctdc_vp_dir

REGIONS_CSV = Path(__file__).with_name("data") / "un_regions.csv"
DICT_NAME = "CTDC_VPsynthetic_dict_20221201.xlsx"


def build_regions(xlsx: Path) -> pd.DataFrame:
    """Read the Region sheet and keep countries with an ISO3 code, UN subregion and region."""
    raw = pd.read_excel(xlsx, sheet_name="Region", dtype=str)
    # Rows without a subregion are uninhabited territories or retired codes (YU, ZR):
    # they cannot be generalised, so leaving them out makes them fail loudly instead.
    kept = raw.dropna(subset=["ISO3", "UNSubRegion", "UNRegion"]).drop_duplicates("ISO3")
    out = pd.DataFrame(
        {
            "iso2": kept["ISO2"].fillna(""),
            "iso3": kept["ISO3"],
            "country": kept["Country"].fillna(kept["Countrydescription"]),
            "subregion": kept["UNSubRegion"],
            "region": kept["UNRegion"],
        }
    )
    return out.sort_values("iso3").reset_index(drop=True)


def main() -> int:
    """Regenerate the committed lookup; exit 1 when shared/ is absent."""
    src = ctdc_vp_dir()
    if src is None:
        print("shared/data/ctdc_vp_synthetic_2022 not found", file=sys.stderr)
        return 1
    build_regions(src / DICT_NAME).to_csv(REGIONS_CSV, index=False, lineterminator="\n")
    print(f"wrote {REGIONS_CSV}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
