"""The organisation that the current request or task acts for.

Held in a context variable for Python code and, on PostgreSQL, mirrored into the transaction-local
setting `tessera.org_id` that the row-level security policies read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connection, transaction

if TYPE_CHECKING:
    from tessera.tenancy.models import Organisation

ORG_SETTING = "tessera.org_id"
# The system audit chain (events that belong to no organisation) uses this marker instead of an id.
SYSTEM_MARKER = "system"

_current_org: ContextVar[Organisation | None] = ContextVar("tessera_current_org", default=None)
_system: ContextVar[bool] = ContextVar("tessera_system_context", default=False)


class NoOrgSelectedError(RuntimeError):
    """Domain data was touched outside an organisation context."""


class CrossOrgWriteError(RuntimeError):
    """A write would put a row into, or point a row at, another organisation."""


def current_org() -> Organisation | None:
    return _current_org.get()


def require_org() -> Organisation:
    org = _current_org.get()
    if org is None:
        raise NoOrgSelectedError(
            "No organisation is selected: domain data is reachable only inside org_context()."
        )
    return org


def in_system_context() -> bool:
    return _system.get()


def _apply_db_setting(value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [ORG_SETTING, value])


def _opens_transaction() -> bool:
    """Whether the atomic block about to be entered starts (and so will end) the transaction. The
    setting then ends with it: restoring it on the way out would be one more round trip on every
    request for nothing."""
    return not connection.in_atomic_block and connection.get_autocommit()


@contextmanager
def org_context(org: Organisation) -> Iterator[Organisation]:
    """Act for `org` inside one transaction (the database setting is transaction-local)."""
    ends_transaction = _opens_transaction()
    with transaction.atomic():
        previous = _current_org.get()
        token = _current_org.set(org)
        _apply_db_setting(str(org.pk))
        try:
            yield org
        finally:
            _current_org.reset(token)
            if not ends_transaction and not connection.needs_rollback:
                _apply_db_setting(str(previous.pk) if previous is not None else "")


@contextmanager
def system_context() -> Iterator[None]:
    """Act for no organisation: only the system audit chain is reachable."""
    ends_transaction = _opens_transaction()
    with transaction.atomic():
        org_token = _current_org.set(None)
        system_token = _system.set(True)
        _apply_db_setting(SYSTEM_MARKER)
        try:
            yield
        finally:
            _system.reset(system_token)
            _current_org.reset(org_token)
            previous = _current_org.get()
            if not ends_transaction and not connection.needs_rollback:
                _apply_db_setting(str(previous.pk) if previous is not None else "")
