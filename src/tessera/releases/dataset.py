"""The statistics dataset: one row per victim in a case, for people whose *current* consent covers
statistics. Only descriptive fields are used; nothing sealed is opened."""

from __future__ import annotations

from datetime import date

import pandas as pd
import phonenumbers

from tessera.cases.models import Case, CaseParty
from tessera.cases.models.party import VICTIM_ROLES
from tessera.cases.models.work import EventType, TraffickingEvent
from tessera.consent.models import Consent, Purpose
from tessera.htcds.catalogue import choices_for
from tessera.privacy.hierarchies import age_hierarchy

COLUMNS = (
    "gender",
    "age",
    "age_band",
    "citizenship",
    "exploitation",
    "exploitation_country",
    "year",
    "status",
)
# Missing values stay empty for k-anonymity (every hierarchy keeps them as they are); statistics
# and synthetic data show them as their own public category.
MISSING = ""
UNKNOWN = "Unknown"


def consenting_people() -> set[object]:
    """People whose latest statistics consent record says yes."""
    latest: dict[object, bool] = {}
    for person_id, is_given in (
        Consent.objects.filter(purpose=Purpose.STATISTICS)
        .order_by("recorded_at")
        .values_list("person_id", "is_given")
    ):
        latest[person_id] = is_given
    return {person for person, given in latest.items() if given}


def statistics_table() -> pd.DataFrame:
    consenting = consenting_people()
    exploitation_country: dict[object, str] = {}
    for case_id, country in (
        TraffickingEvent.objects.filter(type=EventType.EXPLOITATION)
        .exclude(country="")
        .order_by("date")
        .values_list("case_id", "country")
    ):
        exploitation_country.setdefault(case_id, country)
    opened = dict(Case.objects.values_list("id", "opened_on"))
    bands = age_hierarchy()
    rows = []
    parties = CaseParty.objects.filter(role__in=VICTIM_ROLES, person_id__in=consenting).values_list(
        "case_id",
        "person__gender",
        "person__citizenship",
        "age_when_trafficked",
        "type_of_exploitation",
        "trafficking_status",
    )
    for case_id, gender, citizenship, age, exploitation, status in parties:
        opened_on: date | None = opened.get(case_id)
        rows.append(
            {
                "gender": gender or MISSING,
                "age": str(age) if age is not None else MISSING,
                "age_band": bands.generalise(str(age), 2) if age is not None else MISSING,
                "citizenship": citizenship[0] if citizenship else MISSING,
                "exploitation": ";".join(exploitation) if exploitation else MISSING,
                "exploitation_country": exploitation_country.get(case_id, MISSING),
                "year": str(opened_on.year) if opened_on else MISSING,
                "status": status or MISSING,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def public_keys(first_year: int = 2000) -> dict[str, list[str]]:
    """Categories known without looking at the data, so the set of categories never leaks."""
    countries = [*sorted(phonenumbers.SUPPORTED_REGIONS - {"001"}), UNKNOWN]
    bands = age_hierarchy()
    return {
        "gender": [*(value for value, _ in choices_for("prs_Gender")), UNKNOWN],
        "age_band": [*sorted({bands.generalise(str(a), 2) for a in range(100)}), UNKNOWN],
        "citizenship": countries,
        "exploitation": [*(value for value, _ in choices_for("vic_TypeOfExploitation")), UNKNOWN],
        "exploitation_country": countries,
        "year": [str(y) for y in range(first_year, date.today().year + 1)] + [UNKNOWN],
        "status": [*(value for value, _ in choices_for("vic_TraffickingStatus")), UNKNOWN],
    }


def with_unknowns(table: pd.DataFrame) -> pd.DataFrame:
    return table.replace({MISSING: UNKNOWN})
