"""Case management models on HTCDS 2.0 (one module per entity group)."""

from tessera.cases.models.access import BreakGlassGrant, CaseAccessGrant
from tessera.cases.models.case import Case, CaseSequence, CaseStatus, Sensitivity
from tessera.cases.models.counts import CaseCount
from tessera.cases.models.extensions import ExtensionEntity, ExtensionField, ExtensionType
from tessera.cases.models.party import CaseParty, PartyRole
from tessera.cases.models.person import Gender, Person
from tessera.cases.models.work import (
    CaseNote,
    GoalStatus,
    NoteKind,
    SupportGoal,
    SupportPlan,
    TraffickingEvent,
)

__all__ = [
    "BreakGlassGrant",
    "Case",
    "CaseAccessGrant",
    "CaseCount",
    "CaseNote",
    "CaseParty",
    "CaseSequence",
    "CaseStatus",
    "ExtensionEntity",
    "ExtensionField",
    "ExtensionType",
    "Gender",
    "GoalStatus",
    "NoteKind",
    "PartyRole",
    "Person",
    "Sensitivity",
    "SupportGoal",
    "SupportPlan",
    "TraffickingEvent",
]
