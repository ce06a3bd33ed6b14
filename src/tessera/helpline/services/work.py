"""Tasks on contacts and cases, and the notifications they send."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.cases.models import Case
from tessera.cases.services.common import CaseRuleError, acting, audit, require
from tessera.helpline.models import Contact, Notification, Priority, Task, TaskStatus
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def notify(*, recipient: User, message: str, link: str = "") -> Notification:
    """Queue a message in the recipient's notification list (in the current organisation)."""
    notification: Notification = Notification.objects.create(
        recipient=recipient, message=message[:300], link=link[:300]
    )
    return notification


def create_task(
    *,
    actor: Membership,
    title: str,
    contact: Contact | None = None,
    case: Case | None = None,
    assignee: User | None = None,
    team: str = "",
    due_at: datetime | None = None,
    priority: str = Priority.NORMAL,
    details: str = "",
    link: str = "",
) -> Task:
    require(actor, Perm.HANDLE_CONTACTS)
    error = CaseRuleError()
    if not title.strip() or len(title) > 200:
        error.add("title", _("Enter a task of 1 to 200 characters."))
    if priority not in Priority.values:
        error.add("priority", _("Choose a priority."))
    if (
        assignee is not None
        and not assignee.memberships.filter(org=actor.org, is_active=True).exists()
    ):
        error.add("assignee", _("The assignee must be a member of this organisation."))
    if error.errors:
        raise error
    with acting(actor):
        task: Task = Task.objects.create(
            title=title.strip(),
            details=details[:5000],
            contact=contact,
            case=case,
            assignee=assignee,
            team=team[:100],
            due_at=due_at,
            priority=priority,
            created_by=actor.user,
        )
        audit("task.create", task, ["title", "assignee", "team", "due_at", "priority"])
        if assignee is not None and assignee.pk != actor.user_id:
            notify(
                recipient=assignee,
                message=_("New task for you: %(title)s") % {"title": task.title},
                link=link,
            )
    return task


def complete_task(*, actor: Membership, task: Task) -> Task:
    require(actor, Perm.HANDLE_CONTACTS)
    if task.status != TaskStatus.OPEN:
        raise CaseRuleError({"status": [_("This task is no longer open.")]})
    with acting(actor):
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.completed_by = actor.user
        task.save(update_fields=["status", "completed_at", "completed_by"])
        audit("task.complete", task, ["status"])
    return task


def mark_notifications_read(*, actor: Membership) -> int:
    with acting(actor):
        return Notification.objects.filter(recipient=actor.user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
