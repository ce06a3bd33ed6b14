"""Property: random valid HTCDS cases → export → import into an empty organisation → export again
gives the same export, in every format."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.cases.documents import import_case_document
from tessera.htcds.catalogue import picklists
from tessera.tenancy.context import org_context

from .exchange_helpers import comparable, do_export, do_import, fresh_org, officer_in

_counter = itertools.count()
# Printable text, including what spreadsheets treat as formulas and separators.
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Co")),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s)
FORMULA_LIKE = st.sampled_from(["=1+2", "+44 20 7946 0000", "-x", "@SUM(A1)", "'quoted", "a;b,c"])


def _names(field: str) -> list[str]:
    return [c.name for c in picklists()[field].choices]


def _one(field: str) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(_names(field))


def _many(field: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(_names(field)), unique=True, max_size=3).map(sorted)


PERSON = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["PotentialVictim", "Victim", "Perpetrator", "Witness", "Other"]),
        "prs_FirstName": TEXT | FORMULA_LIKE,
        "prs_SecondName": st.none() | TEXT,
        "prs_Birthdate": st.none() | st.dates().map(lambda d: d.isoformat()),
        "prs_Gender": _one("prs_Gender"),
        "prs_Citizenship": st.lists(
            st.sampled_from(["GB", "TH", "NG", "RO"]), unique=True, max_size=2
        ).map(sorted),
        "prs_MobilePhone": st.none() | FORMULA_LIKE,
        "prs_NumberOfChildren": st.none() | st.integers(0, 12),
        "vic_TypeOfExploitation": _many("vic_TypeOfExploitation"),
        "vic_MethodsOfControl": _many("vic_MethodsOfControl"),
        "vic_TraffickingStatus": _one("vic_TraffickingStatus"),
        "vic_DetailsOfVulnerabilities": st.none() | TEXT,
    }
)
CASE = st.fixed_dictionaries(
    {
        "cas_ReferringOrganisation": st.none() | TEXT | FORMULA_LIKE,
        "cas_IncomingReferralDate": st.none() | st.dates().map(lambda d: d.isoformat()),
        "cas_ReasonForIncomingReferral": _one("cas_ReasonForIncomingReferral"),
    }
)
CONSENTS = st.lists(
    st.tuples(st.sampled_from(["care", "statistics", "research"]), st.booleans()),
    unique_by=lambda t: t[0],
    max_size=3,
)


@st.composite
def documents(draw: Any) -> dict[str, Any]:
    people = draw(st.lists(PERSON, min_size=1, max_size=3))
    for i, person in enumerate(people):
        person["ref"] = f"p{i}"
    consent = [
        {"ref": "p0", "purpose": purpose, "con_Consent": given} for purpose, given in draw(CONSENTS)
    ]
    return {"case": draw(CASE), "people": people, "consent": consent}


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=st.lists(documents(), min_size=1, max_size=3))
def test_random_cases_round_trip_through_every_format(
    fmt: str, cases: list[dict[str, Any]]
) -> None:
    n = next(_counter)
    source, target = officer_in(fresh_org(f"src{fmt}{n}"), fresh_org(f"dst{fmt}{n}"))
    with org_context(source.org):
        for document in cases:
            import_case_document(actor=source, document=document)
    first = do_export(source, fmt)
    job = do_import(target, first, f"cases.{fmt}")
    assert job.status == "done", job.report
    assert job.created_cases == len(cases)
    assert comparable(do_export(target, fmt), fmt) == comparable(first, fmt)
