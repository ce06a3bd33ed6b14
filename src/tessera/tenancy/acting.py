"""Acting as a member: one transaction in the member's organisation, audited under their name.

Services take the acting `Membership`; entering it here sets the organisation context and the audit
actor together, so a change made from the CLI or a background task is attributed to the member who
asked for it, exactly as one made through a web request is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from tessera.audit.context import Actor, acting_as, current_actor
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


@contextmanager
def acting(actor: Membership) -> Iterator[None]:
    """The change and its audit event commit together, in the actor's organisation and name."""
    outer = current_actor()
    # Inside a request the middleware already knows the member's IP address: keep it.
    ip = outer.ip if outer.user_id == actor.user_id else None
    member = Actor(user_id=actor.user_id, label=actor.user.email, ip=ip)
    with acting_as(member), org_context(actor.org), transaction.atomic():
        yield


def require(actor: Membership, perm: Perm) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(
            _("Your role does not allow this (%(perm)s).") % {"perm": perm.value}
        )
