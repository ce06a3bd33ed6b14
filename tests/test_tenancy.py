"""The ORM wall between organisations: scoped managers, save guards, the start-up check."""

from __future__ import annotations

import pytest
from django.core import checks
from django.db import models

from tessera.cases.models import Person
from tessera.tenancy import checks as tenancy_checks
from tessera.tenancy.context import CrossOrgWriteError, NoOrgSelectedError, current_org, org_context
from tessera.tenancy.scoping import GLOBAL_MODELS, model_label, tenant_models, tessera_models

from .conftest import World


def test_domain_rows_are_unreachable_without_an_organisation(world: World) -> None:
    with pytest.raises(NoOrgSelectedError):
        list(Person.objects.all())
    with pytest.raises(NoOrgSelectedError):
        Person(first_name="Nobody").save()


def test_each_organisation_sees_only_its_own_rows(world: World) -> None:
    with org_context(world.a):
        Person.objects.create(first_name="Alpha person")
    with org_context(world.b):
        Person.objects.create(first_name="Beta person")
        assert [p.first_name for p in Person.objects.all()] == ["Beta person"]
    with org_context(world.a):
        assert [p.first_name for p in Person.objects.all()] == ["Alpha person"]


def test_a_row_cannot_be_saved_or_deleted_across_organisations(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Alpha person")
    with org_context(world.b):
        person.first_name = "moved"
        with pytest.raises(CrossOrgWriteError):
            person.save()
        with pytest.raises(CrossOrgWriteError):
            person.delete()
        with pytest.raises(CrossOrgWriteError):
            Person.objects.bulk_create([Person(org=world.a, first_name="x")])


def test_lookup_of_another_organisations_row_finds_nothing(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Alpha person")
    with org_context(world.b):
        assert not Person.objects.filter(pk=person.pk).exists()
        with pytest.raises(Person.DoesNotExist):
            Person.objects.get(pk=person.pk)


def test_contexts_nest_and_restore(world: World) -> None:
    assert current_org() is None
    with org_context(world.a):
        with org_context(world.b):
            assert current_org() == world.b
        assert current_org() == world.a
    assert current_org() is None


def test_every_tessera_model_is_scoped_or_explicitly_global() -> None:
    labels = {model_label(m) for m in tessera_models()}
    assert labels >= GLOBAL_MODELS, "the allow-list names a model that no longer exists"
    assert tenancy_checks.check_models_are_org_scoped() == []
    assert {model_label(m) for m in tenant_models()} >= {"cases.Person", "audit.AuditEvent"}


def test_start_up_check_rejects_an_unscoped_domain_model(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unscoped(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "cases"

    Unscoped.__module__ = "tessera.cases.models"
    monkeypatch.setattr(tenancy_checks, "tenant_models", lambda: [Unscoped])
    errors = tenancy_checks.check_models_are_org_scoped()
    assert [e.id for e in errors] == ["tessera.E001"]
    assert isinstance(errors[0], checks.Error)
    assert "no `org` field" in errors[0].msg


def test_services_called_outside_a_request_are_audited_under_the_member(world: World) -> None:
    from tessera.audit.models import AuditEvent
    from tessera.cases.services import open_case
    from tessera.tenancy.models import Membership

    user = world.user(world.a, "caseworker")
    member = Membership.objects.select_related("org", "user").get(user=user, org=world.a)
    case = open_case(actor=member)  # as from the CLI or a task: no middleware set an actor
    with org_context(world.a):
        event = AuditEvent.objects.get(object_id=str(case.pk))
    assert (event.actor_id, event.actor_label) == (user.pk, user.email)
