"""The flat HTCDS layout: one row per person in a case, in the column order of IOM's Excel templates.

The two official templates (`HTCDS Excel Spreadsheet v2.0.xlsx` and its "single select with
validation" sibling) share a header row with three quirks that we read and write as IOM ships them:
an unnamed first column (row numbers), the misspelt `vic_TraffickinStatusDecisionMakingOrg`, and an
unnamed column where `cas_ReasonForOutgoingReferral` belongs. After the template's columns come
Tessera's own (`case_ref` groups the rows of one case, `role`, consent per purpose) and every other
HTCDS field of people, their case context and the case, so that nothing a case holds is lost.
"""

from __future__ import annotations

from tessera.htcds import schema
from tessera.htcds.catalogue import fields

ROW_NUMBER = ""  # the template's unnamed first column
MISSPELT = {"vic_TraffickinStatusDecisionMakingOrg": "vic_TraffickingStatusDecisionMakingOrg"}
# The template leaves this column's header empty; its position names it.
UNNAMED_AFTER = {"cas_ReferredPrimaryCaseWorker": "cas_ReasonForOutgoingReferral"}

TEMPLATE_HEADER: list[str] = [
    ROW_NUMBER,
    "cas_CaseOwner",
    "prs_Salutation",
    "prs_FirstName",
    "prs_SecondName",
    "con_Consent",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "prs_Title",
    "prs_Email",
    "prs_HomePhone",
    "prs_MobilePhone",
    "prs_MailingCity",
    "prs_MailingCountry",
    "prs_MailingState",
    "prs_MailingStreet",
    "prs_MailingPostalCode",
    "vic_TraffickingStatus",
    "vic_TraffickinStatusDecisionMakingOrg",
    "vic_MethodOfRecruitment",
    "vic_LocationOfRecruitment",
    "vic_MethodsOfControl",
    "vic_TypeOfExploitation",
    "vic_ForcedLabourIndustry",
    "vic_TypeOfSexExploitation",
    "vic_LocationOfExploitation",
    "cas_Status",
    "cas_ReferringOrganisation",
    "cas_IncomingReferralDate",
    "cas_ReferringPrimaryCaseWorker",
    "cas_ReasonForIncomingReferral",
    "cas_IncomingReferralDetails",
    "cas_ReferredOrganisation",
    "cas_ReferredPrimaryCaseWorker",
    "",
    "cas_OutgoingReferralDate",
    "cas_OutgoingReferralDetails",
    "cas_ReasonForCaseClosure",
]

CASE_REF = "case_ref"
ROLE = "role"
CASE_OWN = ["opened_on", "sensitivity", "team"]
CONSENT_COLUMNS = {f"consent_{p}": p for p in schema.CONSENT_PURPOSES if p != "care"}
# con_Consent, the standard's single consent checkbox, is consent to care.
CARE_CONSENT = "con_Consent"
# Outgoing referrals are a workflow object in Tessera, not case fields: imported values are kept
# in a case comment so that nothing in the file is lost.
OUTGOING_REFERRAL_FIELDS = [
    "cas_ReferredOrganisation",
    "cas_ReferredPrimaryCaseWorker",
    "cas_ReasonForOutgoingReferral",
    "cas_OutgoingReferralDate",
    "cas_OutgoingReferralDetails",
]


def field_of_header(header: str) -> str:
    """The HTCDS field (or Tessera column) a header names, undoing the template's misspelling."""
    return MISSPELT.get(header, header)


def _template_fields() -> set[str]:
    names = {field_of_header(h) for h in TEMPLATE_HEADER if h}
    return names | set(UNNAMED_AFTER.values())


def extra_header() -> list[str]:
    """Columns after the template's: Tessera's own, then the HTCDS fields the template lacks."""
    in_template = _template_fields()
    htcds = (
        schema.PERSON_FIELDS
        + schema.VICTIM_FIELDS
        + schema.PERPETRATOR_FIELDS
        + [n for n in schema.CASE_FIELDS]
    )
    return [
        CASE_REF,
        ROLE,
        *[n for n in htcds if n not in in_template],
        *CASE_OWN,
        *CONSENT_COLUMNS,
    ]


def full_header() -> list[str]:
    return TEMPLATE_HEADER + extra_header()


def known_columns() -> set[str]:
    return {field_of_header(h) for h in full_header() if h} | set(UNNAMED_AFTER.values())


def label_of(column: str) -> str:
    spec = fields().get(field_of_header(column))
    if spec is not None:
        return spec.label
    return column.replace("_", " ").capitalize()


def header_fields(header: list[str]) -> list[str | None]:
    """For each column of a file's header, the field it carries (None: the row-number column or
    an empty unnamed column)."""
    out: list[str | None] = []
    for i, raw in enumerate(header):
        name = raw.strip()
        if name:
            out.append(field_of_header(name))
        elif i > 0 and header[i - 1].strip() in UNNAMED_AFTER:
            out.append(UNNAMED_AFTER[header[i - 1].strip()])
        else:
            out.append(None)
    return out


PERSON_SIDE = frozenset(schema.PERSON_FIELDS + schema.VICTIM_FIELDS + schema.PERPETRATOR_FIELDS)
CASE_SIDE = frozenset(schema.CASE_FIELDS + CASE_OWN)
