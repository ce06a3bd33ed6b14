"""Helpline records: contacts (every interaction, any channel), tasks, notifications and the
knowledge base. Caller details are sealed by the vault; the caller's phone number is searchable only
through its keyed blind index."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.cases.models import Case, Person
from tessera.tenancy.models import OrgScopedModel
from tessera.vault.fields import BlindIndexField, EncryptedTextField


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEBCHAT = "webchat", _("Webchat")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    APP = "app", _("App")
    IN_PERSON = "in_person", _("In person")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class CallerType(models.TextChoices):
    POTENTIAL_VICTIM = "potential_victim", _("Potential victim")
    PUBLIC = "public", _("Member of the public")
    BUSINESS = "business", _("Business")
    STATUTORY = "statutory", _("Statutory agency")
    NGO = "ngo", _("NGO")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency (risk to life)")


URGENT_LEVELS = frozenset({Urgency.URGENT, Urgency.EMERGENCY})


class Outcome(models.TextChoices):
    ADVICE = "advice", _("Advice or information given")
    REFERRED_POLICE = "referred_police", _("Referred to police")
    REFERRED_NGO = "referred_ngo", _("Referred to a support organisation")
    REFERRED_AGENCY = "referred_agency", _("Referred to another agency")
    CASE_OPENED = "case_opened", _("Case opened or updated")
    NO_FURTHER_ACTION = "no_further_action", _("No further action")
    ABANDONED = "abandoned", _("Abandoned or cut off")


class TriageStatus(models.TextChoices):
    NEW = "new", _("Waiting for triage")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class SafetyFlag(models.TextChoices):
    DO_NOT_CALL_BACK = "do_not_call_back", _("Do not call back")
    PERPETRATOR_MAY_ANSWER = "perpetrator_may_answer", _("Perpetrator may answer")
    NO_VOICEMAIL = "no_voicemail", _("Do not leave voicemail")
    TEXT_ONLY = "text_only", _("Text messages only")
    CALLER_AT_RISK = "caller_at_risk", _("Caller at immediate risk")
    INTERPRETER_NEEDED = "interpreter_needed", _("Interpreter needed")


class Source(models.TextChoices):
    STAFF = "staff", _("Recorded by staff")
    PUBLIC_FORM = "public_form", _("Public report form")
    PARTNER_API = "partner_api", _("Partner application")


class Contact(OrgScopedModel):
    """One interaction with the helpline; it may concern exploitation or not (both are counted)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("Channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(
        _("Direction"), max_length=8, choices=Direction.choices, default=Direction.INBOUND
    )
    caller_type = models.CharField(
        _("Caller type"), max_length=20, choices=CallerType.choices, default=CallerType.OTHER
    )
    language = models.CharField(_("Language"), max_length=8, blank=True)
    started_at = models.DateTimeField(_("Started at"))
    ended_at = models.DateTimeField(_("Ended at"), null=True, blank=True)
    # When an advisor first took the contact: the response time is answered_at - started_at.
    answered_at = models.DateTimeField(_("Answered at"), null=True, blank=True)
    summary = EncryptedTextField(_("Summary"))
    location = EncryptedTextField(_("Where"))
    occurred = models.CharField(_("When it happened"), max_length=100, blank=True)
    outcome = models.CharField(_("Outcome"), max_length=20, choices=Outcome.choices, blank=True)
    urgency = models.CharField(
        _("Urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    is_exploitation = models.BooleanField(_("Concerns exploitation"), null=True, blank=True)
    is_anonymous = models.BooleanField(_("Anonymous"), default=False)
    caller_name = EncryptedTextField(_("Caller's name"))
    caller_phone = EncryptedTextField(_("Caller's phone"))
    caller_phone_index = BlindIndexField(source="caller_phone", kind="phone", db_index=False)
    caller_email = EncryptedTextField(_("Caller's e-mail"))
    safe_contact = EncryptedTextField(_("Safe ways and times to contact"))
    safety_flags = models.JSONField(_("Safety flags"), default=list, blank=True)
    triage_status = models.CharField(
        _("Triage"), max_length=12, choices=TriageStatus.choices, default=TriageStatus.IN_PROGRESS
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.STAFF)
    team = models.CharField(_("Team"), max_length=100, blank=True)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgScopedModel.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["org", "caller_phone_index", "-started_at"], name="contact_org_phone"
            ),
            models.Index(fields=["org", "-started_at"], name="contact_org_started"),
            models.Index(fields=["org", "triage_status", "started_at"], name="contact_org_triage"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_urgent(self) -> bool:
        return self.urgency in URGENT_LEVELS


class ContactPerson(OrgScopedModel):
    """A person (caller, potential victim, suspect) a contact is about."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("Role"), max_length=40, blank=True)

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "person"], name="one_link_per_contact_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.contact_id}"


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(OrgScopedModel):
    """Work to do on a contact or a case, for one person or for a team's queue."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("Task"), max_length=200)
    details = models.TextField(_("Details"), blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="helpline_tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.CharField(_("Team queue"), max_length=100, blank=True)
    due_at = models.DateTimeField(_("Due"), null=True, blank=True)
    priority = models.CharField(
        _("Priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["due_at", "created_at"]
        indexes = [models.Index(fields=["org", "status", "due_at"], name="task_org_status_due")]

    def __str__(self) -> str:
        return self.title


class Notification(OrgScopedModel):
    """A message for one member in the interface (task assigned, report received …)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["org", "recipient", "read_at"], name="notification_org_unread")
        ]

    def __str__(self) -> str:
        return self.message


class KnowledgeArticle(OrgScopedModel):
    """Guidance for advisors, in Markdown (rendered safely), one row per language."""

    title = models.CharField(_("Title"), max_length=200)
    body = models.TextField(_("Text (Markdown)"))
    language = models.CharField(_("Language"), max_length=8, default="en")
    tags = models.CharField(_("Tags"), max_length=300, blank=True)
    is_published = models.BooleanField(_("Published"), default=True)
    # Title, tags and body as one text: the full-text index reads it (tsvector on PostgreSQL;
    # an FTS5 table on SQLite, kept in step by the services).
    search_text = models.TextField(blank=True, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (s.strip() for s in self.tags.split(",")) if t]
