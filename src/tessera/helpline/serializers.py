"""Plain dictionaries for the API. Sealed caller fields appear only in the detail, whose read is
audited, and only for roles that may see identities."""

from __future__ import annotations

from typing import Any

from tessera.helpline.markdown import render_markdown
from tessera.helpline.models import Contact, KnowledgeArticle, Task
from tessera.helpline.selectors import CallerLookup

Json = dict[str, Any]
SEALED_OUT = ("summary", "location", "caller_name", "caller_phone", "caller_email", "safe_contact")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def contact_summary(contact: Contact) -> Json:
    return {
        "id": str(contact.pk),
        "channel": contact.channel,
        "direction": contact.direction,
        "caller_type": contact.caller_type,
        "language": contact.language,
        "started_at": _iso(contact.started_at),
        "ended_at": _iso(contact.ended_at),
        "answered_at": _iso(contact.answered_at),
        "occurred": contact.occurred,
        "outcome": contact.outcome,
        "urgency": contact.urgency,
        "is_exploitation": contact.is_exploitation,
        "is_anonymous": contact.is_anonymous,
        "safety_flags": list(contact.safety_flags),
        "triage_status": contact.triage_status,
        "source": contact.source,
        "team": contact.team,
        "case_id": str(contact.case_id) if contact.case_id else None,
        "case_reference": contact.case.reference if contact.case_id and contact.case else None,
        "handled_by": contact.handled_by_id,
        "has_caller_phone": bool(contact.caller_phone_index),
    }


def contact_detail(contact: Contact) -> Json:
    out = contact_summary(contact)
    out.update({name: getattr(contact, name) or "" for name in SEALED_OUT})
    return out


def lookup_out(result: CallerLookup) -> Json:
    return {
        "phone": result.phone,
        "known": bool(result.contacts or result.cases),
        "safety_flags": result.safety_flags,
        "contacts": [contact_summary(c) for c in result.contacts],
        "open_cases": [
            {"id": str(c.pk), "reference": c.reference, "status": c.status} for c in result.cases
        ],
        "hidden_contacts": result.hidden_contacts,
    }


def task_out(task: Task) -> Json:
    return {
        "id": str(task.pk),
        "title": task.title,
        "details": task.details,
        "contact_id": str(task.contact_id) if task.contact_id else None,
        "case_id": str(task.case_id) if task.case_id else None,
        "assignee_id": task.assignee_id,
        "team": task.team,
        "due_at": _iso(task.due_at),
        "priority": task.priority,
        "status": task.status,
        "completed_at": _iso(task.completed_at),
    }


def article_out(article: KnowledgeArticle, *, with_body: bool = False) -> Json:
    out: Json = {
        "id": article.pk,
        "title": article.title,
        "language": article.language,
        "tags": article.tag_list,
        "updated_at": _iso(article.updated_at),
    }
    if with_body:
        out["body"] = article.body
        out["html"] = str(render_markdown(article.body))
    return out
