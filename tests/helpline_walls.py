"""The helpline's objects for the security enumeration (tests/walls.py): for a member of org A,
one object of theirs, and those of organisation B they must never reach."""

from __future__ import annotations

from collections.abc import Callable

from tessera.accounts.models import User
from tessera.helpline import services
from tessera.helpline.models import Contact, KnowledgeArticle, Task
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role

from .conftest import World
from .walls import PathObjects, Target


def _handler(world: World, org: Organisation) -> Membership:
    return Membership.objects.select_related("org", "user").get(
        org=org, user=world.user(org, Role.SUPERVISOR)
    )


def _state(org: Organisation, model: type, pk: object) -> Callable[[], object]:
    def state() -> object:
        with org_context(org):
            return list(model.objects.filter(pk=pk).values())

    return state


class Contacts(PathObjects):
    def _make(self, world: World, org: Organisation) -> Target:
        with org_context(org):
            contact = services.record_contact(
                actor=_handler(world, org),
                data={"channel": "phone", "caller_phone": "+447700900001", "summary": "walls"},
            )
        return Target(f"contact of {org.slug}", contact.pk, _state(org, Contact, contact.pk))

    def own(self, world: World, user: User) -> Target:
        return self._make(world, world.a)

    def foreign(self, world: World, user: User) -> list[Target]:
        return [self._make(world, world.b)]


class Tasks(PathObjects):
    def _make(self, world: World, org: Organisation) -> Target:
        with org_context(org):
            task = services.create_task(actor=_handler(world, org), title="walls")
        return Target(f"task of {org.slug}", task.pk, _state(org, Task, task.pk))

    def own(self, world: World, user: User) -> Target:
        return self._make(world, world.a)

    def foreign(self, world: World, user: User) -> list[Target]:
        return [self._make(world, world.b)]


class Articles(PathObjects):
    def _make(self, world: World, org: Organisation) -> Target:
        with org_context(org):
            article = services.save_article(actor=_handler(world, org), title="walls", body="x")
        return Target(
            f"article of {org.slug}", article.pk, _state(org, KnowledgeArticle, article.pk)
        )

    def own(self, world: World, user: User) -> Target:
        return self._make(world, world.a)

    def foreign(self, world: World, user: User) -> list[Target]:
        return [self._make(world, world.b)]


class ReportForms(PathObjects):
    """Every organisation's report form is public by design; what must not exist is a form for
    an organisation that does not."""

    def own(self, world: World, user: User) -> Target:
        return Target("own organisation's form", world.a.slug, lambda: None)  # type: ignore[arg-type]

    def foreign(self, world: World, user: User) -> list[Target]:
        return [Target("a slug no organisation has", "no-such-org", lambda: None)]  # type: ignore[arg-type]


HELPLINE_PATH_OBJECTS: dict[str, PathObjects] = {
    "report:org:org_slug": ReportForms(),
    "contact_id": Contacts(),
    "task_id": Tasks(),
    "article_id": Articles(),
}

_H = "helpline.handle"
_CURATE = "cases.approve_closure"
HELPLINE_REVIEWED_ACCESS: dict[str, dict[str, str]] = {
    **{
        f"helpline:{name}": {"GET": _H, "POST": _H}
        for name in (
            "triage",
            "contact_new",
            "contact_detail",
            "contact_take",
            "contact_link_case",
            "contact_people",
            "task_add",
            "tasks",
            "task_complete",
            "notifications",
            "alerts_badge",
            "knowledge",
            "article",
        )
    },
    "helpline:article_new": {"GET": _CURATE, "POST": _CURATE},
    "helpline:article_edit": {"GET": _CURATE, "POST": _CURATE},
    "helpline:dashboard": {"GET": "insights.view", "POST": "insights.view"},
    "helpline:dashboard_csv": {"GET": "insights.view", "POST": "insights.view"},
    "report:default": {"GET": "public", "POST": "public"},
    "report:org": {"GET": "public", "POST": "public"},
    "api:/helpline/contacts": {"GET": _H, "POST": _H},
    "api:/helpline/contacts/{contact_id}": {"GET": _H, "PATCH": _H},
    "api:/helpline/contacts/{contact_id}/case": {"POST": _H},
    "api:/helpline/contacts/{contact_id}/people": {"POST": _H},
    "api:/helpline/lookup": {"POST": _H},
    "api:/helpline/tasks": {"GET": _H, "POST": _H},
    "api:/helpline/tasks/{task_id}/complete": {"POST": _H},
    "api:/helpline/knowledge": {"GET": _H},
    "api:/helpline/knowledge/{article_id}": {"GET": _H},
    "api:/public/reports": {"POST": "public"},
}
