"""Generate ``data/un_regions.csv`` from the CTDC dictionary's Region sheet.

Run ``python -m tessera.privacy._generate`` after the reference changes; a test checks the
committed file still matches the source when shared/ is present.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from tessera.privacy._shared import ctdc_vp_dir, shared_dir

REGIONS_CSV = Path(__file__).with_name("data") / "un_regions.csv"
KEYSETS_JSON = Path(__file__).with_name("data") / "keysets.json"
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


def build_keysets(xlsx: Path, enumerations_csv: Path | None) -> dict[str, list[str]]:
    """Public categories: CTDC VP codebook tables (single values) and HTCDS picklists."""
    sheet = pd.read_excel(xlsx, sheet_name="TabStat", header=None, dtype=str)
    names = set(pd.read_excel(xlsx, sheet_name="Main", dtype=str)["name"])
    keys: dict[str, list[str]] = {}
    current = None
    for first, label in zip(sheet[0], sheet[1], strict=True):
        if isinstance(first, str) and first in names:
            current = first
            keys[current] = []
        elif current and isinstance(label, str) and label != "Total":
            for value in label.split(";"):
                # "." is Stata's missing value, not a category.
                if value.strip() not in {"", "."} and value.strip() not in keys[current]:
                    keys[current].append(value.strip())
    if enumerations_csv is not None:
        enums = pd.read_csv(enumerations_csv, dtype=str).dropna(subset=["value_name"])
        for field, group in enums.groupby("field", sort=True):
            keys[f"htcds:{field}"] = list(dict.fromkeys(group["value_name"]))
    return {k: sorted(v) for k, v in sorted(keys.items()) if v}


def _enumerations() -> Path | None:
    root = shared_dir()
    path = root / "reference" / "htcds" / "csv" / "enumerations_long.csv" if root else None
    return path if path is not None and path.exists() else None


def main() -> int:
    """Regenerate the committed lookup; exit 1 when shared/ is absent."""
    src = ctdc_vp_dir()
    if src is None:
        print("shared/data/ctdc_vp_synthetic_2022 not found", file=sys.stderr)
        return 1
    build_regions(src / DICT_NAME).to_csv(REGIONS_CSV, index=False, lineterminator="\n")
    keysets = build_keysets(src / DICT_NAME, _enumerations())
    KEYSETS_JSON.write_text(json.dumps(keysets, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {REGIONS_CSV} and {KEYSETS_JSON}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
