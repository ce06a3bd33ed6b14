"""The CTDC global-dataset layout (CTDC Global Dataset data dictionary, 2018; codebook v6):
variables, codes, and how each is derived from HTCDS values. `-99` means missing."""

from __future__ import annotations

from datetime import date
from typing import Any

MISSING = "-99"

MEANS_OF_CONTROL = {
    "meansOfControlDebtBondage": {"DebtBondage"},
    "meansOfControlTakesEarnings": {"TakesEarnings"},
    "meansOfControlRestrictsFinancialAccess": {"RestrictsFinancialAccess"},
    "meansOfControlThreats": {"PhysicalThreats", "ThreatensChildrenFamily"},
    "meansOfControlPsychologicalAbuse": {"PsychologicalAbuse"},
    "meansOfControlPhysicalAbuse": {"PhysicalAbuse"},
    "meansOfControlSexualAbuse": {"SexualAbuse"},
    "meansOfControlFalsePromises": {"FalsePromises"},
    "meansOfControlPsychoactiveSubstances": {"PsychoactiveSubstance"},
    "meansOfControlRestrictsMovement": set(),
    "meansOfControlRestrictsMedicalCare": {"RestrictsMedicalCare"},
    "meansOfControlExcessiveWorkingHours": {"ExcessiveWorkingHours"},
    "meansOfControlUsesChildren": set(),
    "meansOfControlThreatOfLawEnforcement": {"ThreatsLawEnforcement"},
    "meansOfControlWithholdsNecessities": {"WithholdsNecessities"},
    "meansOfControlWithholdsDocuments": {"WithholdsDocuments"},
    "meansOfControlOther": {"Other"},
}
EXPLOITATION = {
    "isForcedLabour": {"ForcedLabour", "ChildLabour", "Servitude", "ForcedBegging"},
    "isSexualExploit": {"SexualExploitation"},
    "isOtherExploit": {"Other", "ForcedAdoption", "Surrogacy"},
    "isForcedMarriage": {"ForcedMarriage"},
    "isForcedMilitary": {"ForcedMilitaryByNonStateActors"},
    "isOrganRemoval": {"OrganRemoval"},
}
LABOUR = {
    "typeOfLabourAgriculture": {"A_AgricultureForestryAndFishing"},
    "typeOfLabourAquafarming": set(),
    "typeOfLabourBegging": set(),
    "typeOfLabourConstruction": {"F_Construction"},
    "typeOfLabourDomesticWork": {"T_ActivitiesOfHouseholdsAsEmployers"},
    "typeOfLabourHospitality": {"I_AccommodationAndFoodServiceActivities"},
    "typeOfLabourIllicitActivities": set(),
    "typeOfLabourManufacturing": {"C_Manufacturing"},
    "typeOfLabourMiningOrDrilling": {"B_MiningAndQuarrying"},
    "typeOfLabourPeddling": {"G_WholesaleAndRetailTradeRepairOfMotorVehicles"},
    "typeOfLabourTransportation": {"H_TransportationAndStorage"},
}
SEX = {
    "typeOfSexProstitution": "Prostitution",
    "typeOfSexPornography": "Pornography",
    "typeOfSexRemoteInteractiveServices": "RemoteInteractiveServices",
    "typeOfSexPrivateSexualServices": "PrivateSexualServices",
}
RELATION = {
    "recruiterRelationIntimatePartner": None,
    "recruiterRelationFriend": "Acquainted",
    "recruiterRelationFamily": "Familial",
    "recruiterRelationOther": "Unaquainted",
}
GENDER = {
    "Feminine": "Female",
    "Masculine": "Male",
    "TransgenderFeminine": "Transgender/NonConforming",
    "TransgenderMasculine": "Transgender/NonConforming",
    "NonConforming": "Transgender/NonConforming",
}
AGE_RANGES = [
    (8, "0--8"),
    (17, "9--17"),
    (20, "18--20"),
    (23, "21--23"),
    (26, "24--26"),
    (29, "27--29"),
    (38, "30--38"),
    (47, "39--47"),
]

COLUMNS = [
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "majorityStatusAtExploit",
    "MajorityEntry",
    "citizenship",
    *MEANS_OF_CONTROL,
    "meansOfControlNotSpecified",
    "meansOfControlConcatenated",
    *EXPLOITATION,
    "isSexAndLabour",
    "typeOfExploitConcatenated",
    *LABOUR,
    "typeOfLabourOther",
    "typeOfLabourNotSpecified",
    "typeOfLabourConcatenated",
    *SEX,
    "typeOfSexConcatenated",
    "isAbduction",
    "RecruiterRelationship",
    "CountryOfExploitation",
    *RELATION,
    "recruiterRelationUnknown",
]


def _flag(known: bool, hit: bool) -> str:
    return ("1" if hit else "0") if known else MISSING


def age_range(age: int | None) -> str:
    if age is None:
        return MISSING
    for top, label in AGE_RANGES:
        if age <= top:
            return label
    return "48+"


def _age(born: date | None, on: date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def ctdc_row(
    *, registered: date, person: dict[str, Any], party: dict[str, Any], countries: list[str]
) -> dict[str, str]:
    """One victim as a CTDC row (every value a string; -99 where unknown)."""
    age = _age(person.get("birthdate"), registered)
    at_exploit = party.get("age_when_trafficked")
    controls = set(party.get("methods_of_control") or [])
    types = set(party.get("type_of_exploitation") or [])
    industry = party.get("forced_labour_industry") or ""
    sex = set(party.get("type_of_sex_exploitation") or [])
    relation = party.get("relationship_to_trafficker") or ""
    row = {
        "yearOfRegistration": str(registered.year),
        "Datasource": "Case management",
        "gender": GENDER.get(person.get("gender") or "", MISSING),
        "ageBroad": age_range(age),
        "majorityStatus": MISSING if age is None else ("Adult" if age >= 18 else "Minor"),
        "majorityStatusAtExploit": MISSING
        if at_exploit is None
        else ("Adult" if at_exploit >= 18 else "Minor"),
        "MajorityEntry": age_range(at_exploit),
        "citizenship": (person.get("citizenship") or [MISSING])[0],
        "CountryOfExploitation": countries[0] if countries else MISSING,
        "isAbduction": MISSING,
        "RecruiterRelationship": MISSING,
    }
    for column, values in MEANS_OF_CONTROL.items():
        row[column] = _flag(bool(controls), bool(controls & values))
    row["meansOfControlNotSpecified"] = "0" if controls else "1"
    row["meansOfControlConcatenated"] = ";".join(sorted(controls)) or MISSING
    for column, values in EXPLOITATION.items():
        row[column] = _flag(bool(types), bool(types & values))
    row["isSexAndLabour"] = _flag(
        bool(types), row["isForcedLabour"] == row["isSexualExploit"] == "1"
    )
    row["typeOfExploitConcatenated"] = ";".join(sorted(types)) or MISSING
    for column, industries in LABOUR.items():
        row[column] = _flag(bool(industry), industry in industries)
    mapped = any(industry in v for v in LABOUR.values())
    row["typeOfLabourOther"] = _flag(bool(industry), bool(industry) and not mapped)
    row["typeOfLabourNotSpecified"] = "0" if industry else "1"
    row["typeOfLabourConcatenated"] = industry or MISSING
    for column, value in SEX.items():
        row[column] = _flag(bool(sex), value in sex)
    row["typeOfSexConcatenated"] = ";".join(sorted(sex)) or MISSING
    for column, relation_value in RELATION.items():
        row[column] = _flag(bool(relation), relation == relation_value)
    row["recruiterRelationUnknown"] = "0" if relation else "1"
    return {column: row[column] for column in COLUMNS}
