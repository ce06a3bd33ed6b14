"""Reports from the public (the web form and partner apps). There is no login: the receiving
organisation is resolved from its slug and its context entered explicitly here."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.context import Actor, acting_as
from tessera.audit.services import record
from tessera.cases.services.common import CaseRuleError
from tessera.helpline.cleaning import apply_contact_data
from tessera.helpline.models import Channel, Contact, Source, TriageStatus, Urgency
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Organisation

# What a member of the public may set; everything else is the advisor's judgement.
PUBLIC_FIELDS = frozenset(
    {
        "summary",
        "location",
        "occurred",
        "caller_type",
        "caller_name",
        "caller_phone",
        "caller_email",
        "safe_contact",
        "language",
        "is_anonymous",
        "safety_flags",
        "urgency",
    }
)


def submit_public_report(
    *,
    org: Organisation,
    data: dict[str, Any],
    source: str = Source.PUBLIC_FORM,
    ip: str | None = None,
) -> Contact:
    """File a report into `org`'s triage queue as a new web-form (or app) contact."""
    unknown = sorted(set(data) - PUBLIC_FIELDS)
    if unknown:
        raise CaseRuleError({name: [_("This is not a field of a report.")] for name in unknown})
    values = dict(data)
    if values.get("is_anonymous"):
        for name in ("caller_name", "caller_phone", "caller_email", "safe_contact"):
            values[name] = ""
    if values.get("urgency") not in (None, "", *Urgency.values):
        values.pop("urgency")
    channel = Channel.WEB_FORM if source == Source.PUBLIC_FORM else Channel.APP
    # Attributed to the public, never to whoever may be logged in on the same browser.
    with acting_as(Actor(user_id=None, label=f"public:{source}", ip=ip)), org_context(org):
        contact = Contact(
            channel=channel,
            source=source,
            triage_status=TriageStatus.NEW,
            started_at=timezone.now(),
        )
        changed = apply_contact_data(contact, values, region=org.shipping_country or None)
        contact.save()
        record(
            action="contact.public_report",
            object_type="Contact",
            object_id=str(contact.pk),
            fields=sorted(changed),
        )
    return contact
