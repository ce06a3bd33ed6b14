"""Shared helpers for the helpline tests."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tessera.helpline import services
from tessera.helpline.models import Contact
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role

from .conftest import World


def member(world: World, org: Organisation, role: Role | str) -> Membership:
    return Membership.objects.select_related("org", "user").get(org=org, user=world.user(org, role))


def post_json(client: Client, path: str, body: object, **kwargs: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", **kwargs)


def contact_from(world: World, org: Organisation, phone: str, **data: Any) -> Contact:
    actor = member(world, org, Role.HELPLINE_ADVISOR)
    with org_context(org):
        return services.record_contact(
            actor=actor, data={"channel": "phone", "caller_phone": phone, **data}
        )
