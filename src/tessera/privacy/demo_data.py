"""Generated case tables with realistic correlations, for tests, benchmarks and demos.

No row is a real person. Citizenship follows a skewed distribution; the country of
exploitation depends on citizenship (mostly the same subregion, sometimes a destination hub);
age and form of exploitation depend on each other, and multi-valued cells use ``;``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tessera.privacy.hierarchies import _country_table

_HUBS = ["USA", "GBR", "DEU", "ITA", "ARE", "SAU", "THA", "MYS", "RUS", "NLD"]
_YEARS = ["2005-2013", "2014-2018", "2019", "2020", "2021-2022"]


def generate_cases(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Return ``n_rows`` synthetic victim records.

    Columns: age, gender, citizenship (ISO3), country_of_exploitation (ISO3), date_identified,
    exploitation (multi-valued), means_of_control (sensitive), plus CTDC-style categorical
    columns used by the synthetic-data benchmark.
    """
    rng = np.random.default_rng(seed)
    table = _country_table()
    iso3 = sorted({k.upper() for k in table if len(k) == 3 and k.upper() == k.upper()})
    iso3 = [c for c in iso3 if c.casefold() in table]
    weights = 1.0 / np.arange(1, len(iso3) + 1) ** 1.1
    order = rng.permutation(len(iso3))
    citizenship = np.asarray(iso3)[order][rng.choice(len(iso3), n_rows, p=weights / weights.sum())]
    by_subregion: dict[str, list[str]] = {}
    for code in iso3:
        by_subregion.setdefault(table[code.casefold()].subregion, []).append(code)
    same = np.array(
        [rng.choice(by_subregion[table[c.casefold()].subregion]) for c in citizenship[:5000]]
    )
    neighbour = np.resize(same, n_rows) if n_rows > 5000 else same
    neighbour = np.where(rng.random(n_rows) < 0.6, citizenship, neighbour)
    hub = np.asarray(_HUBS)[rng.integers(0, len(_HUBS), n_rows)]
    exploitation_country = np.where(rng.random(n_rows) < 0.45, hub, neighbour)
    sexual = rng.random(n_rows) < 0.35
    minor = rng.random(n_rows) < np.where(sexual, 0.25, 0.08)
    age = np.where(minor, rng.integers(6, 18, n_rows), rng.gamma(6.0, 5.0, n_rows) + 16)
    age = np.clip(age, 1, 80).astype(int)
    gender = np.where(rng.random(n_rows) < np.where(sexual, 0.9, 0.4), "Female", "Male")
    forced = ~sexual | (rng.random(n_rows) < 0.1)
    exploitation = np.where(
        sexual & forced,
        "Forced labour;Sexual exploitation",
        np.where(sexual, "Sexual exploitation", "Forced labour"),
    )
    days = rng.integers(0, 365 * 18, n_rows)
    date = pd.Timestamp("2005-01-01") + pd.to_timedelta(days, unit="D")
    year = date.year.to_numpy()
    year_band = np.select(
        [year <= 2013, year <= 2018, year == 2019, year == 2020], _YEARS[:4], _YEARS[4]
    )
    means = np.where(
        sexual,
        rng.choice(
            ["Threats", "Abuse", "Debt bondage", "Withheld documents"],
            n_rows,
            p=[0.3, 0.4, 0.1, 0.2],
        ),
        rng.choice(
            ["Threats", "Abuse", "Debt bondage", "Withheld documents"],
            n_rows,
            p=[0.15, 0.1, 0.45, 0.3],
        ),
    )
    frame = pd.DataFrame(
        {
            "age": age,
            "gender": gender,
            "citizenship": citizenship,
            "country_of_exploitation": exploitation_country,
            "date_identified": date.strftime("%Y-%m-%d"),
            "exploitation": exploitation,
            "means_of_control": means,
            "year_band": year_band,
        }
    )
    missing = rng.random(n_rows) < 0.05
    frame.loc[missing, "gender"] = pd.NA
    return frame
