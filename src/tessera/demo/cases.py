"""Seeded demo cases: obviously fictional people in several scripts, with exploitation events,
support plans, notes and consent, created through the same HTCDS document import as the API."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from tessera.cases.documents import import_case_document
from tessera.cases.models import Case
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role

CASES_PER_ORG = 12

# Invented names, marked as demo data wherever they appear; one list per script.
GIVEN_NAMES = {
    "latin": ["Mira", "Tomas", "Elena", "Kofi", "Ana", "Lucas", "Ines", "Dorin"],
    "cyrillic": ["Оксана", "Дмитро", "Ирина", "Богдан", "Светлана", "Павел"],
    "arabic": ["ليلى", "يوسف", "نور", "سمير", "هدى", "كريم"],
    "devanagari": ["सीमा", "राजेश", "प्रिया", "अमित", "कविता", "विक्रम"],
    "thai": ["มาลี", "สมชาย", "นภา", "ประเสริฐ"],
}
FAMILY_NAMES = {
    "latin": ["Demoescu", "Samplewood", "Fictivo", "Placeholt"],
    "cyrillic": ["Примерова", "Тестенко", "Вымыслов"],
    "arabic": ["التجريبي", "النموذجي", "الخيالي"],
    "devanagari": ["नमूना", "काल्पनिक", "उदाहरण"],
    "thai": ["ตัวอย่าง", "สมมติ"],
}
EXPLOITATION = [
    "ForcedLabour",
    "SexualExploitation",
    "ForcedBegging",
    "Servitude",
    "ForcedMarriage",
]
INDUSTRIES = [
    "A_AgricultureForestryAndFishing",
    "F_Construction",
    "I_AccommodationAndFoodServiceActivities",
    "C_Manufacturing",
]
CONTROL = ["DebtBondage", "WithholdsDocuments", "FalsePromises", "PhysicalThreats", "TakesEarnings"]
PERPETRATOR_ROLES = ["RecruiterOrIntermediary", "Transporter", "Exploiter", "Smuggler"]
SUPPORT = ["Health", "Legal", "Financial", "SocialCare", "Livelihood"]
COUNTRIES = ["RO", "VN", "AL", "NG", "TH", "MM", "UA", "IN", "PH", "GB"]


def _person(rng: random.Random, ref: str, role: str, index: int) -> dict[str, Any]:
    script = rng.choice(list(GIVEN_NAMES))
    person: dict[str, Any] = {
        "ref": ref,
        "role": role,
        "prs_FirstName": rng.choice(GIVEN_NAMES[script]),
        "prs_SecondName": f"{rng.choice(FAMILY_NAMES[script])} (demo)",
        "prs_Gender": rng.choice(["Feminine", "Masculine", "NonSpecifiedUnknown"]),
        "prs_Citizenship": [rng.choice(COUNTRIES)],
        # Ofcom's drama range: numbers that can never reach a real person.
        "prs_MobilePhone": f"+44 7700 900{index % 1000:03d}",
    }
    if role != "Perpetrator":
        birth = date(1975, 1, 1) + timedelta(days=rng.randrange(0, 365 * 30))
        person["prs_Birthdate"] = birth.isoformat()
    return person


def demo_document(rng: random.Random, number: int, org_country: str) -> dict[str, Any]:
    exploitation = rng.choice(EXPLOITATION)
    victim = _person(rng, "v", "PotentialVictim", number * 2)
    victim.update(
        {
            "vic_TypeOfExploitation": [exploitation],
            "vic_MethodsOfControl": rng.sample(CONTROL, 2),
            "vic_TraffickingStatus": rng.choice(
                ["PossibleVictimOfTrafficking", "ActualVictimOfTrafficking"]
            ),
        }
    )
    if exploitation == "ForcedLabour":
        victim["vic_ForcedLabourIndustry"] = rng.choice(INDUSTRIES)
    perpetrator = _person(rng, "p", "Perpetrator", number * 2 + 1)
    perpetrator["per_RoleInProcess"] = [rng.choice(PERPETRATOR_ROLES)]
    start = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 600))
    return {
        "htcds_version": "2.0",
        "case": {
            "cas_ReasonForIncomingReferral": rng.choice(["AdditionalServicesRequired", "Other"]),
            "sensitivity": rng.choices(["standard", "restricted"], weights=[4, 1])[0],
        },
        "people": [victim, perpetrator],
        "events": [
            {
                "hte_Type": "Recruitment",
                "hte_Country": victim["prs_Citizenship"][0],
                "hte_Date": start.isoformat(),
            },
            {
                "hte_Type": "Exploitation",
                "hte_Country": org_country,
                "hte_Date": (start + timedelta(days=rng.randrange(10, 120))).isoformat(),
            },
        ],
        "support_plans": [
            {
                "spl_Type": rng.choice(SUPPORT),
                "spl_Objectives": "Safe accommodation and health check (demo)",
                "goals": [
                    {"description": "Register with a doctor"},
                    {"description": "Legal advice session"},
                ],
            }
        ],
        "comments": [
            {"cco_CaseComment": "Demo note: first contact, survivor safe.", "kind": "call"}
        ],
        "consent": [
            {
                "ref": "v",
                "purpose": "care",
                "con_Consent": True,
                "evidence": "verbal, recorded (demo)",
            },
            {
                "ref": "v",
                "purpose": "statistics",
                "con_Consent": rng.random() < 0.7,
                "evidence": "form (demo)",
            },
        ],
    }


def load_demo_cases(org: Organisation, seed: int) -> int:
    """Create the organisation's demo cases unless it already has some. Returns how many."""
    actor = (
        Membership.objects.select_related("org", "user")
        .filter(org=org, role=Role.CASEWORKER, is_active=True)
        .order_by("pk")
        .first()
    )
    if actor is None:
        return 0
    rng = random.Random(seed)  # noqa: S311  (demo data, not security)
    with org_context(org):
        if Case.objects.exists():
            return 0
        for number in range(CASES_PER_ORG):
            import_case_document(
                actor=actor,
                document=demo_document(rng, seed * 100 + number, org.shipping_country or "GB"),
            )
    return CASES_PER_ORG
