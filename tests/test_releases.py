"""Privacy-preserving releases: consenting victims only, a second person approves, ε is accounted."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tessera.audit.models import AuditEvent
from tessera.cases.documents import import_case_document
from tessera.releases import services
from tessera.releases.dataset import statistics_table
from tessera.releases.models import PrivacyBudget, Release, ReleaseStatus
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role

from .conftest import World

pytestmark = pytest.mark.django_db


def member(world: World, org: Organisation, role: Role) -> Membership:
    return Membership.objects.select_related("org", "user").get(user=world.user(org, role), org=org)


def add_case(
    actor: Membership, *, gender: str, age: int, statistics: bool | None, withdraw: bool = False
) -> None:
    consent: list[dict[str, Any]] = []
    if statistics is not None:
        consent.append(
            {"ref": "v", "purpose": "statistics", "con_Consent": statistics, "evidence": "form"}
        )
    document = {
        "htcds_version": "2.0",
        "case": {"cas_ReasonForIncomingReferral": "Other"},
        "people": [
            {
                "ref": "v",
                "role": "PotentialVictim",
                "prs_FirstName": "Someone",
                "prs_Gender": gender,
                "prs_Citizenship": ["RO"],
                "vic_AgeWhenTrafficked": age,
                "vic_TypeOfExploitation": ["ForcedLabour"],
            }
        ],
        "events": [{"hte_Type": "Exploitation", "hte_Country": "GB", "hte_Date": "2025-03-01"}],
        "consent": consent,
    }
    with org_context(actor.org):
        case = import_case_document(actor=actor, document=document)
        if withdraw:
            from tessera.consent.services import withdraw_consent

            person = case.parties.get().person
            withdraw_consent(
                actor=actor, person=person, purpose="statistics", evidence="phone call"
            )


@pytest.fixture
def cases(world: World) -> World:
    caseworker = member(world, world.a, Role.CASEWORKER)
    for index in range(12):
        add_case(
            caseworker,
            gender="Feminine" if index % 2 else "Masculine",
            age=20 + index % 3,
            statistics=True,
        )
    add_case(caseworker, gender="Feminine", age=30, statistics=False)
    add_case(caseworker, gender="Feminine", age=31, statistics=None)
    add_case(caseworker, gender="Masculine", age=32, statistics=True, withdraw=True)
    add_case(member(world, world.b, Role.CASEWORKER), gender="Feminine", age=33, statistics=True)
    return world


def test_only_victims_whose_current_consent_covers_statistics_are_used(cases: World) -> None:
    with org_context(cases.a):
        table = statistics_table()
    assert len(table) == 12
    assert set(table["citizenship"]) == {"RO"}
    assert set(table["exploitation_country"]) == {"GB"}


def test_a_k_anonymous_release_needs_a_second_person_before_download(cases: World) -> None:
    analyst = member(cases, cases.a, Role.ANALYST)
    supervisor = member(cases, cases.a, Role.SUPERVISOR)
    release = services.prepare_release(actor=analyst, kind="kanon", parameters={"k": 3})
    assert release.status == ReleaseStatus.PENDING
    assert release.source_rows == 12
    with pytest.raises(PermissionDenied, match="not been approved"):
        services.download_release(actor=analyst, release=release)
    with pytest.raises(PermissionDenied):
        services.approve_release(actor=analyst, release=release)
    approved = services.approve_release(actor=supervisor, release=release, note="checked")
    rows = list(
        csv.DictReader(io.StringIO(services.download_release(actor=analyst, release=approved)))
    )
    classes = Counter(
        tuple(row[c] for c in ("gender", "age", "citizenship", "exploitation_country", "year"))
        for row in rows
    )
    assert rows
    assert min(classes.values()) >= 3
    assert "prs_FirstName" not in rows[0]
    with org_context(cases.a):
        actions = list(
            AuditEvent.objects.filter(object_id=str(release.pk)).values_list("action", flat=True)
        )
    assert actions == ["release.prepare", "release.approved", "release.download"]


def test_the_author_cannot_approve_their_own_release(cases: World) -> None:
    supervisor = member(cases, cases.a, Role.SUPERVISOR)
    release = services.prepare_release(actor=supervisor, kind="kanon", parameters={"k": 2})
    with pytest.raises(PermissionDenied, match="someone other than its author"):
        services.approve_release(actor=supervisor, release=release)
    admin = member(cases, cases.a, Role.ORG_ADMIN)
    services.reject_release(actor=admin, release=release, note="too detailed")
    with pytest.raises(ValidationError, match="already rejected"):
        services.approve_release(actor=admin, release=release)


def test_dp_releases_charge_the_budget_and_refuse_to_overspend(cases: World) -> None:
    analyst = member(cases, cases.a, Role.ANALYST)
    with org_context(cases.a):
        PrivacyBudget.objects.create(dataset="cases", epsilon_total=1.0)
    first = services.prepare_release(
        actor=analyst, kind="dp_stats", parameters={"epsilon": 0.6, "columns": ["gender"]}
    )
    assert first.epsilon == 0.6
    with pytest.raises(ValidationError, match=r"only ε=0\.4"):
        services.prepare_release(
            actor=analyst, kind="dp_stats", parameters={"epsilon": 0.6, "columns": ["gender"]}
        )
    with org_context(cases.a):
        assert PrivacyBudget.objects.get().epsilon_spent == pytest.approx(0.6)
        assert Release.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "parameters", "message"),
    [
        ("dp_stats", {"epsilon": 0}, "greater than 0"),
        ("dp_stats", {"epsilon": "lots"}, "greater than 0"),
        ("dp_stats", {"epsilon": 1, "columns": ["prs_FirstName"]}, "unknown: prs_FirstName"),
        ("kanon", {"k": 1}, "at least 2"),
        ("kanon", {"k": 500}, "larger than the data"),
        ("teleport", {}, "Choose one of"),
    ],
)
def test_bad_parameters_are_refused_and_nothing_is_spent(
    cases: World, kind: str, parameters: dict[str, Any], message: str
) -> None:
    analyst = member(cases, cases.a, Role.ANALYST)
    with pytest.raises(ValidationError, match=re.escape(message)):
        services.prepare_release(actor=analyst, kind=kind, parameters=parameters)
    with org_context(cases.a):
        assert not Release.objects.exists()
        assert not PrivacyBudget.objects.filter(epsilon_spent__gt=0).exists()


def test_caseworkers_cannot_prepare_releases(cases: World) -> None:
    with pytest.raises(PermissionDenied):
        services.prepare_release(actor=member(cases, cases.a, Role.CASEWORKER), kind="kanon")


def test_synthetic_release_through_the_api(cases: World) -> None:
    analyst = cases.client_for(cases.a, Role.ANALYST)
    supervisor = cases.client_for(cases.a, Role.SUPERVISOR)
    created = analyst.post(
        "/api/v1/releases",
        json.dumps(
            {"kind": "synthetic", "parameters": {"epsilon": 1.0, "columns": ["gender", "age_band"]}}
        ),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    release_id = created.json()["id"]
    assert analyst.get(f"/api/v1/releases/{release_id}/download").status_code == 403
    refused = analyst.post(
        f"/api/v1/releases/{release_id}/approve", "{}", content_type="application/json"
    )
    assert refused.status_code == 403
    approved = supervisor.post(
        f"/api/v1/releases/{release_id}/approve", "{}", content_type="application/json"
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    download = analyst.get(f"/api/v1/releases/{release_id}/download")
    assert download.status_code == 200
    header = download.content.decode().splitlines()[0]
    assert header == "gender,age_band"
    bad = analyst.post(
        "/api/v1/releases",
        json.dumps({"kind": "dp_stats", "parameters": {"epsilon": -1}}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "epsilon" in bad.json()["errors"]


def test_the_release_pages_prepare_approve_and_download(cases: World) -> None:
    analyst = cases.client_for(cases.a, Role.ANALYST)
    page = analyst.get("/releases/")
    assert page.status_code == 200
    assert b"Prepare a release" in page.content
    prepared = analyst.post("/releases/", {"kind": "kanon", "k": "3"}, follow=True)
    assert b"needs a second person" in prepared.content
    with org_context(cases.a):
        release = Release.objects.get()
    assert analyst.get(f"/releases/{release.pk}/download/").status_code == 403
    assert (
        analyst.post(f"/releases/{release.pk}/decide/", {"decision": "approve"}).status_code == 403
    )
    supervisor = cases.client_for(cases.a, Role.SUPERVISOR)
    supervisor.post(f"/releases/{release.pk}/decide/", {"decision": "approve", "note": "ok"})
    download = analyst.get(f"/releases/{release.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    refused = analyst.post("/releases/", {"kind": "dp_stats", "epsilon": "-2"}, follow=True)
    assert "greater than 0" in refused.content.decode()
