import itertools

import numpy as np
import pandas as pd
import pytest

from tessera.privacy import _lattice
from tessera.privacy.errors import PrivacyError
from tessera.privacy.kanon import KAnonSpec, _Search, k_anonymise
from tessera.privacy.kanon_report import class_sizes

CASE_QIS = [
    "age",
    "gender",
    "citizenship",
    "country_of_exploitation",
    "date_identified",
    "exploitation",
]
CTDC_QIS = [
    "yearRegister",
    "gender",
    "majorityStatus",
    "UN_COO_Region",
    "IP_citizen_UNRegion",
    "IP_ageBroad",
]


def _spec(qis: list[str], k: int, **kw: object) -> KAnonSpec:
    return KAnonSpec({q: None for q in qis}, k=k, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [2, 5, 11, 50])
def test_every_class_of_the_ctdc_release_has_at_least_k_records(
    ctdc_vp: pd.DataFrame, k: int
) -> None:
    result = k_anonymise(ctdc_vp, _spec(CTDC_QIS, k))
    assert class_sizes(result.data, CTDC_QIS).min() >= k
    assert result.report["smallest_class"] >= k
    assert result.report["records_suppressed"] <= 0.05 * len(ctdc_vp)
    assert result.report["records_out"] + result.report["records_suppressed"] == len(ctdc_vp)


@pytest.mark.parametrize("k", [3, 11])
def test_every_class_of_the_generated_release_has_at_least_k_records(
    cases: pd.DataFrame, k: int
) -> None:
    spec = _spec(CASE_QIS, k, sensitive=["means_of_control"], max_levels={"citizenship": 2})
    result = k_anonymise(cases, spec)
    assert class_sizes(result.data, CASE_QIS).min() >= k
    assert result.report["levels"]["citizenship"] in {"country", "subregion", "region"}
    assert result.data["citizenship"].notna().all()
    assert result.report["suppressed_share"] <= 0.05


def test_zero_suppression_allowed_means_no_record_is_withheld(cases: pd.DataFrame) -> None:
    result = k_anonymise(cases, _spec(CASE_QIS, 11, max_suppression=0.0))
    assert result.report["records_suppressed"] == 0
    assert class_sizes(result.data, CASE_QIS).min() >= 11


def test_l_diversity_and_t_closeness_hold_in_every_class(cases: pd.DataFrame) -> None:
    spec = _spec(CASE_QIS[:4], 5, sensitive=["means_of_control"], l_diversity=3, t_closeness=0.4)
    result = k_anonymise(cases, spec)
    checks = result.report["sensitive_checks"]["means_of_control"]
    assert checks["l_diversity"] >= 3
    assert checks["t_closeness"] <= 0.4 + 1e-9
    groups = result.data.astype("string").fillna("").groupby(CASE_QIS[:4])["means_of_control"]
    assert groups.nunique().min() >= 3


def test_branch_and_bound_finds_the_same_loss_as_exhaustive_search(cases: pd.DataFrame) -> None:
    small = cases.head(3000)
    spec = _spec(["age", "citizenship", "date_identified"], 5)
    result = k_anonymise(small, spec)
    from tessera.privacy.hierarchies import infer_hierarchy

    hs = [infer_hierarchy(small[q]) for q in spec.quasi_identifiers]
    columns = [
        _lattice.encode_column(q, small[q], h)
        for q, h in zip(spec.quasi_identifiers, hs, strict=True)
    ]
    search = _Search(columns, _lattice.compress(columns, []), spec)
    losses = [search.evaluate(n) for n in itertools.product(*[range(h.height + 1) for h in hs])]
    best = min(x for x in losses if x is not None)
    chosen = np.mean(list(result.report["information_loss"].values())[:-1])
    assert chosen == pytest.approx(best, abs=1e-5)


def test_journalist_risk_with_a_population_is_at_most_prosecutor_risk(cases: pd.DataFrame) -> None:
    sample = cases.sample(4000, random_state=1)
    result = k_anonymise(sample, _spec(["age", "citizenship"], 5), population=cases)
    risk = result.report["risk"]
    assert risk["journalist"]["basis"] == "population table"
    assert risk["journalist"]["highest"] <= risk["prosecutor"]["highest"]
    assert risk["prosecutor"]["highest"] <= 1 / 5


def test_multi_valued_quasi_identifiers_stay_sets(ctdc_vp: pd.DataFrame) -> None:
    result = k_anonymise(ctdc_vp, _spec(["IP_citizen_UNRegion", "gender"], 11))
    values = set(result.data["IP_citizen_UNRegion"].dropna())
    assert values and all(v == ";".join(sorted(set(v.split(";")))) for v in values)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (KAnonSpec({"nope": None}, k=3), "unknown column 'nope'"),
        (KAnonSpec({"age": None}, k=10**6), "larger than the data"),
        (KAnonSpec({"age": None}, k=1), "at least 2"),
        (KAnonSpec({}, k=3), "no quasi-identifiers"),
    ],
)
def test_bad_requests_raise_a_clear_error(
    cases: pd.DataFrame, spec: KAnonSpec, message: str
) -> None:
    with pytest.raises(PrivacyError, match=message):
        k_anonymise(cases, spec)


def test_an_empty_table_is_refused() -> None:
    with pytest.raises(PrivacyError, match="empty"):
        k_anonymise(pd.DataFrame({"age": []}), KAnonSpec({"age": None}, k=2))


def test_mondrian_release_is_k_anonymous_without_suppression(cases: pd.DataFrame) -> None:
    spec = _spec(CASE_QIS, 11, sensitive=["means_of_control"], method="mondrian")
    result = k_anonymise(cases, spec)
    assert result.report["records_suppressed"] == 0
    assert class_sizes(result.data, CASE_QIS).min() >= 11
    assert result.report["smallest_class"] >= 11
    assert result.report["search"]["method"] == "mondrian"
    lattice = k_anonymise(cases, _spec(CASE_QIS, 11, sensitive=["means_of_control"]))
    assert lattice.report["search"]["method"] == "lattice"


def test_mondrian_keeps_l_diversity_and_refuses_t_closeness(cases: pd.DataFrame) -> None:
    spec = _spec(CASE_QIS[:4], 5, sensitive=["means_of_control"], l_diversity=3, method="mondrian")
    result = k_anonymise(cases, spec)
    assert result.report["sensitive_checks"]["means_of_control"]["l_diversity"] >= 3
    with pytest.raises(PrivacyError, match="mondrian supports"):
        k_anonymise(cases, _spec(CASE_QIS[:2], 5, t_closeness=0.3, method="mondrian"))


def test_vectorised_date_generalisation_matches_cell_by_cell() -> None:
    from tessera.privacy.hierarchies import DateHierarchy

    hierarchy = DateHierarchy()
    for values in (
        ["2019-03-04", "", "2020-12-31", "2005-01-01", "2019-03-04"],
        ["2019-03-04", "4 March 2018", "", "1999-12-31"],  # not all ISO: the mixed parser
        ["2019-03-04", "2018-01-02;2019-05-06", ""],  # multi-valued: cell by cell
    ):
        for level in range(hierarchy.height + 1):
            want = [hierarchy.generalise(v, level) for v in values]
            assert hierarchy.generalise_many(values, level) == want


def test_a_value_that_is_not_a_date_is_named() -> None:
    from tessera.privacy.hierarchies import DateHierarchy

    with pytest.raises(PrivacyError, match="'not a date at all'"):
        DateHierarchy().validate(["2019-03-04", "not a date at all"], "date_identified")
