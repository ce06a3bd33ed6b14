"""Generated people with typos, for linkage tests and benchmarks (no real person)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "an",
    "na",
    "el",
    "sa",
    "to",
    "li",
    "ne",
    "ma",
    "ra",
    "jo",
    "hu",
    "be",
    "da",
    "vi",
    "os",
    "ta",
    "mi",
    "lu",
    "fa",
    "ke",
    "zo",
    "ya",
    "ce",
]


def _names(rng: np.random.Generator, n_distinct: int, syllables: tuple[int, int]) -> list[str]:
    out: set[str] = set()
    while len(out) < n_distinct:
        k = int(rng.integers(syllables[0], syllables[1] + 1))
        out.add("".join(rng.choice(_SYLLABLES, k)))
    return sorted(out)


def _typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 2:
        return text
    i = int(rng.integers(0, len(text) - 1))
    kind = int(rng.integers(0, 4))
    letter = chr(int(rng.integers(97, 123)))
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + letter + text[i:]
    if kind == 2:
        return text[:i] + letter + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def generate_people(
    n: int, overlap: float = 0.5, typo_rate: float = 0.3, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two organisations' records; ``person`` is the hidden truth (never encoded).

    Each of the ``overlap * n`` shared people appears in both tables; each field of B's copy
    gets a typo with probability ``typo_rate`` (names: edit; dates: day/month swap or one
    digit; phones: one digit or a lost country code); 5% of fields are missing.
    """
    rng = np.random.default_rng(seed)
    given = _names(rng, 2000, (2, 3))
    family = _names(rng, 5000, (2, 4))
    zipf_g = 1 / np.arange(1, len(given) + 1) ** 0.8
    zipf_f = 1 / np.arange(1, len(family) + 1) ** 0.7
    total = int(n * (2 - overlap))
    people = pd.DataFrame(
        {
            "person": np.arange(total),
            "given_name": rng.choice(given, total, p=zipf_g / zipf_g.sum()),
            "family_name": rng.choice(family, total, p=zipf_f / zipf_f.sum()),
            "date_of_birth": (
                pd.Timestamp("1950-01-01")
                + pd.to_timedelta(rng.integers(0, 365 * 60, total), unit="D")
            ).strftime("%Y-%m-%d"),
            "phone": [f"+{rng.integers(1, 99)} {rng.integers(10**8, 10**9)}" for _ in range(total)],
        }
    )
    shared = int(n * overlap)
    a = people.iloc[:n].copy()
    b = pd.concat([people.iloc[:shared], people.iloc[n:]]).copy()
    for column in ["given_name", "family_name"]:
        hit = rng.random(len(b)) < typo_rate
        b.loc[hit, column] = [_typo(rng, v) for v in b.loc[hit, column]]
    hit = rng.random(len(b)) < typo_rate
    b.loc[hit, "date_of_birth"] = [
        f"{v[:5]}{v[8:10]}-{v[5:7]}" if int(v[8:10]) <= 12 else f"{v[:9]}{(int(v[9]) + 1) % 10}"
        for v in b.loc[hit, "date_of_birth"]
    ]
    hit = rng.random(len(b)) < typo_rate
    b.loc[hit, "phone"] = [v.split(" ")[1] for v in b.loc[hit, "phone"]]
    for frame in (a, b):
        for column in ["given_name", "family_name", "date_of_birth", "phone"]:
            frame.loc[rng.random(len(frame)) < 0.05, column] = pd.NA
    return a.sample(frac=1, random_state=seed).reset_index(drop=True), b.sample(
        frac=1, random_state=seed + 1
    ).reset_index(drop=True)
