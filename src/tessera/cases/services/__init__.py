"""Every change to case data: one keyword-only function per action, each in its own transaction
with its audit event. Views, API handlers and imports call these; nothing else writes."""

from tessera.cases.services.access import (
    assign_case,
    break_glass,
    grant_case_access,
    revoke_case_access,
    set_sensitivity,
)
from tessera.cases.services.cases import (
    approve_closure,
    change_status,
    open_case,
    reject_closure,
    request_closure,
    update_case,
)
from tessera.cases.services.extensions import (
    PICKLIST_TYPES,
    define_extension_field,
    update_extension_field,
)
from tessera.cases.services.people import (
    add_party,
    create_person,
    merge_people,
    record_identity_read,
    update_party,
    update_person,
)
from tessera.cases.services.work import (
    add_goal,
    add_note,
    create_support_plan,
    record_event,
    update_event,
    update_goal,
    update_support_plan,
)

__all__ = [
    "PICKLIST_TYPES",
    "add_goal",
    "add_note",
    "add_party",
    "approve_closure",
    "assign_case",
    "break_glass",
    "change_status",
    "create_person",
    "create_support_plan",
    "define_extension_field",
    "grant_case_access",
    "merge_people",
    "open_case",
    "record_event",
    "record_identity_read",
    "reject_closure",
    "request_closure",
    "revoke_case_access",
    "set_sensitivity",
    "update_case",
    "update_event",
    "update_extension_field",
    "update_goal",
    "update_party",
    "update_person",
    "update_support_plan",
]
