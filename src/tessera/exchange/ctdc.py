"""CTDC: export an organisation's victims in the CTDC global-dataset layout (only people whose
current consent covers statistics), and read CTDC files into the analytics table.

Reading knows three layouts: the global dataset as comma-separated values with `-99` for missing;
the download layout, semicolon-separated with blanks for missing and a terms-of-use cell above the
header; and the victim-perpetrator synthetic file (comma-separated, blanks, `;` inside cells).
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases.models import CaseParty
from tessera.cases.models.party import VICTIM_ROLES
from tessera.cases.services.common import acting, require
from tessera.consent.models import Consent
from tessera.exchange.ctdc_layout import COLUMNS, MISSING, ctdc_row
from tessera.exchange.safety import MAX_CELL_CHARS, ExchangeFileError, decode_text, neutralise
from tessera.exchange.units import Problem, Unit
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

VP_COLUMNS = (
    "yearRegister",
    "gender",
    "majorityStatus",
    "isForcedLabour",
    "isSexualExploit",
    "UN_COO_Region",
    "UN_COE_Region",
    "IP_Exploiter",
    "IP_Gender",
    "IP_ageBroad",
    "IP_citizen_UNRegion",
    "IP_Relation",
    "IP_PayMoney",
    "IP_RecruiterBroker",
    "IP_TransactionProcess",
    "IP_ControlAbuseKidnap",
)
SYNTHETIC_2024 = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
)
KNOWN = frozenset(COLUMNS) | frozenset(VP_COLUMNS) | frozenset(SYNTHETIC_2024) | {"Datasource"}


def _statistics_consenters() -> set[Any]:
    latest: dict[Any, bool] = {}
    for person_id, given in (
        Consent.objects.filter(purpose="statistics")
        .order_by("person_id", "-recorded_at")
        .values_list("person_id", "is_given")
    ):
        latest.setdefault(person_id, given)
    return {pid for pid, given in latest.items() if given}


def export_ctdc(*, actor: Membership) -> bytes:
    """Victims whose latest statistics consent is given, one CTDC row each, comma-separated."""
    require(actor, Perm.VIEW_AGGREGATES)
    with acting(actor):
        allowed = _statistics_consenters()
        parties = (
            CaseParty.objects.filter(role__in=VICTIM_ROLES, person_id__in=allowed)
            .select_related("case", "person")
            .order_by("case__opened_on", "created_at")
        )
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        count = 0
        for party in parties:
            countries = sorted(
                {e.country for e in party.case.events.filter(type="Exploitation") if e.country}
            )
            row = ctdc_row(
                registered=party.case.opened_on,
                person={
                    "birthdate": party.person.birthdate,
                    "gender": party.person.gender,
                    "citizenship": party.person.citizenship,
                },
                party={
                    "age_when_trafficked": party.age_when_trafficked,
                    "methods_of_control": party.methods_of_control,
                    "type_of_exploitation": party.type_of_exploitation,
                    "forced_labour_industry": party.forced_labour_industry,
                    "type_of_sex_exploitation": party.type_of_sex_exploitation,
                    "relationship_to_trafficker": party.relationship_to_trafficker,
                },
                countries=countries,
            )
            writer.writerow([neutralise(row[c]) for c in COLUMNS])
            count += 1
        record(
            action="exchange.export_ctdc",
            object_type="Organisation",
            object_id=actor.org_id,
            reason=f"{count} victims with consent to statistics",
        )
    return out.getvalue().encode()


def read_ctdc(data: bytes) -> list[Unit]:
    """Every row as a unit holding {dataset, values}; missing values (-99, blank) become None."""
    text = decode_text(data)
    lines = text.splitlines()
    start = next(
        (
            i
            for i, line in enumerate(lines[:20])
            if sum(v in line for v in ("gender", "isForcedLabour")) == 2
        ),
        None,
    )
    if start is None:
        raise ExchangeFileError(_("No CTDC header row (with gender and isForcedLabour) was found."))
    header_line = lines[start]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    csv.field_size_limit(MAX_CELL_CHARS + 2)
    reader = csv.reader(io.StringIO("\n".join(lines[start:]), newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ExchangeFileError(_("The CTDC file cannot be read: %s") % exc) from None
    header = [h.strip() for h in rows[0]]
    dataset = _dataset(header, delimiter)
    units = []
    problems = [
        Problem(start + 1, h, h, _("%(column)s is not a CTDC variable.") % {"column": h})
        for h in header
        if h and h not in KNOWN
    ]
    if problems:
        return [Unit(document={}, first_row=start + 1, problems=problems)]
    seen: dict[str, int] = {}
    for offset, values in enumerate(rows[1:], start=start + 2):
        if not any(v.strip() for v in values):
            continue
        cells = {h: _value(v) for h, v in zip(header, values, strict=False) if h}
        digest = hashlib.sha256(f"{dataset}|{values}".encode()).hexdigest()[:40]
        seen[digest] = seen.get(digest, 0) + 1
        unit = Unit(document={"dataset": dataset, "values": cells}, first_row=offset)
        unit.key = f"ctdc:{digest}#{seen[digest]}"
        units.append(unit)
    return units


def _value(raw: str) -> str | None:
    value = raw.strip()
    return None if value in ("", MISSING) else value


def _dataset(header: list[str], delimiter: str) -> str:
    if header[:1] == ["yearRegister"]:
        return "ctdc_vp_synthetic_2022"
    if "traffickMonths" in header:
        return "ctdc_synthetic_2024"
    return "ctdc_global" if delimiter == "," else "ctdc_global_download"
