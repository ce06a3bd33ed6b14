"""Every change to helpline data goes through these functions (each audited)."""

from tessera.helpline.services.contacts import (
    close_contact,
    link_contact_to_case,
    link_person,
    record_caller_read,
    record_contact,
    record_lookup,
    take_contact,
    update_contact,
)
from tessera.helpline.services.knowledge import save_article
from tessera.helpline.services.reports import submit_public_report
from tessera.helpline.services.work import (
    complete_task,
    create_task,
    mark_notifications_read,
    notify,
)

__all__ = [
    "close_contact",
    "complete_task",
    "create_task",
    "link_contact_to_case",
    "link_person",
    "mark_notifications_read",
    "notify",
    "record_caller_read",
    "record_contact",
    "record_lookup",
    "save_article",
    "submit_public_report",
    "take_contact",
    "update_contact",
]
