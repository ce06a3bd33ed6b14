"""The JSON Schema of one HTCDS case document, built from the catalogue.

A document holds one case with its people (each with their role and HTCDS victim or perpetrator
context), trafficking events, support plans, comments and consent records. HTCDS fields keep their
exact names; Tessera's own fields (role, purpose, sensitivity …) have plain snake_case names, and an
organisation's extension fields sit under `extensions`, under their own names.
"""

from __future__ import annotations

from typing import Any

from tessera.htcds.catalogue import Field, fields, fields_with_prefix, picklists
from tessera.htcds.validation import CODE_LIST_TEXT_FIELDS, MAX_LONG_TEXT, MAX_TEXT

SCHEMA_ID = "https://tessera.example.org/schemas/htcds-case-2.0.json"

# Which HTCDS fields each part of a document carries. Outgoing referral fields belong to the
# referral workflow (a separate object), so a case document carries only the incoming referral.
CASE_FIELDS = [
    "cas_Status",
    "cas_ReasonForCaseClosure",
    "cas_CaseOwner",
    "cas_ReferringOrganisation",
    "cas_IncomingReferralDate",
    "cas_ReferringPrimaryCaseWorker",
    "cas_ReasonForIncomingReferral",
    "cas_IncomingReferralDetails",
]
PERSON_FIELDS = [f.name for f in fields_with_prefix("prs_")]
VICTIM_FIELDS = [f.name for f in fields_with_prefix("vic_")]
PERPETRATOR_FIELDS = [f.name for f in fields_with_prefix("per_")]
EVENT_FIELDS = [f.name for f in fields_with_prefix("hte_")]
PLAN_FIELDS = [f.name for f in fields_with_prefix("spl_")]
COMMENT_FIELDS = ["cco_CaseComment"]
CONSENT_FIELDS = ["con_Consent"]

PARTY_ROLES = ["PotentialVictim", "Victim", "Perpetrator", "Witness", "Other"]
CONSENT_PURPOSES = ["care", "referral", "statistics", "research", "contact"]
SENSITIVITIES = ["standard", "restricted", "highly_restricted"]
NOTE_KINDS = ["note", "call", "meeting", "email", "visit", "sms"]
GOAL_STATUSES = ["planned", "in_progress", "achieved", "not_achieved", "cancelled"]

_CODE_PATTERNS = {"iso3166-alpha2": "^[A-Z]{2}$", "iso639-2": "^[a-z]{2,3}$"}


def field_schema(spec: Field) -> dict[str, Any]:
    """The JSON Schema of one HTCDS field's value (always nullable: no field is required)."""
    base: dict[str, Any] = {"title": spec.label, "x-htcds-type": spec.type}
    if spec.description:
        base["description"] = spec.description
    if spec.core:
        base["x-htcds-core"] = True
    if spec.is_deprecated:
        base["deprecated"] = True
    picklist = picklists().get(spec.name)
    code = CODE_LIST_TEXT_FIELDS.get(spec.name) or (picklist.standard if picklist else "")
    item: dict[str, Any]
    if code:
        item = {"type": "string", "pattern": _CODE_PATTERNS[code]}
    elif picklist is not None and spec.type != "Text":
        item = {"type": "string", "enum": [c.name for c in picklist.choices]}
    elif spec.type == "Date":
        item = {"type": "string", "format": "date"}
    elif spec.type == "Checkbox":
        item = {"type": "boolean"}
    elif spec.name.endswith("Latitude"):
        item = {"type": "number", "minimum": -90, "maximum": 90}
    elif spec.name.endswith("Longitude"):
        item = {"type": "number", "minimum": -180, "maximum": 180}
    elif spec.type == "Number":
        item = {"type": "integer", "minimum": 0, "maximum": 200}
    elif spec.type == "Long Text":
        item = {"type": "string", "maxLength": MAX_LONG_TEXT}
    else:
        item = {"type": "string", "maxLength": MAX_TEXT}
    if spec.is_multiselect:
        return {**base, "type": ["array", "null"], "items": item, "uniqueItems": True}
    nullable = dict(item)
    nullable["type"] = [item["type"], "null"]
    if "enum" in nullable:
        nullable["enum"] = [*item["enum"], None]
    return {**base, **nullable}


def _object(
    names: list[str], extra: dict[str, Any], required: list[str] | None = None
) -> dict[str, Any]:
    catalogue = fields()
    properties = {name: field_schema(catalogue[name]) for name in names}
    properties.update(extra)
    properties["extensions"] = {
        "type": "object",
        "description": "The organisation's own fields, under their own names.",
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _enum(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


_ID = {"type": "string", "format": "uuid", "readOnly": True}
_REF = {
    "type": "string",
    "maxLength": 64,
    "description": "A local name for a person, unique in the document.",
}


def case_document_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one HTCDS case document."""
    party = _object(
        PERSON_FIELDS + VICTIM_FIELDS + PERPETRATOR_FIELDS,
        {
            "id": _ID,
            "person_id": {"type": "string", "format": "uuid", "readOnly": True},
            "ref": _REF,
            "role": _enum(PARTY_ROLES, "The person's role in this case."),
        },
        required=["role"],
    )
    goal = {
        "type": "object",
        "additionalProperties": False,
        "required": ["description"],
        "properties": {
            "id": _ID,
            "description": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            "status": _enum(GOAL_STATUSES, "Progress of the goal."),
            "outcome": {"type": "string", "maxLength": MAX_LONG_TEXT},
            "target_date": {"type": ["string", "null"], "format": "date"},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "HTCDS 2.0 case document",
        "type": "object",
        "additionalProperties": False,
        "required": ["case"],
        "properties": {
            "htcds_version": {"const": "2.0"},
            "case": _object(
                CASE_FIELDS,
                {
                    "id": _ID,
                    "reference": {"type": "string", "readOnly": True},
                    "sensitivity": _enum(SENSITIVITIES, "Who may see the case."),
                    "team": {"type": "string", "maxLength": 100},
                    "opened_on": {"type": ["string", "null"], "format": "date"},
                },
            ),
            "people": {"type": "array", "items": party},
            "events": {
                "type": "array",
                "items": _object(
                    EVENT_FIELDS,
                    {"id": _ID, "end_date": {"type": ["string", "null"], "format": "date"}},
                ),
            },
            "support_plans": {
                "type": "array",
                "items": _object(
                    PLAN_FIELDS, {"id": _ID, "goals": {"type": "array", "items": goal}}
                ),
            },
            "comments": {
                "type": "array",
                "items": _object(
                    COMMENT_FIELDS,
                    {
                        "id": _ID,
                        "kind": _enum(NOTE_KINDS, "What kind of activity the comment records."),
                        "occurred_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                ),
            },
            "consent": {
                "type": "array",
                "items": _object(
                    CONSENT_FIELDS,
                    {
                        "id": _ID,
                        "ref": _REF,
                        "purpose": _enum(CONSENT_PURPOSES, "What the consent is for."),
                        "evidence": {"type": "string", "maxLength": MAX_LONG_TEXT},
                        "recorded_at": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "readOnly": True,
                        },
                    },
                    required=["purpose", "ref", "con_Consent"],
                ),
            },
        },
    }
