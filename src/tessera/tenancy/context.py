"""The organisation that the current request or task acts for.

Held in a context variable for Python code and, on PostgreSQL, mirrored into the transaction-local
setting `tessera.org_id` that the row-level security policies read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
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


class OrgChosenByStatement:
    """The organisation of a transaction that `org_context_chosen_by_statement` opened: the first
    statement sends `setting(...)`, and `enter()` adopts the organisation whose id the database
    reports having set."""

    def __init__(self) -> None:
        self.entered: Token[Organisation | None] | None = None

    @staticmethod
    def setting(org_id_sql: str) -> str:
        """A select-list expression that sets the organisation to `org_id_sql` for the rest of the
        transaction and returns the value set (NULL when there is no such row: nothing is set)."""
        if connection.vendor != "postgresql":
            return "NULL"
        return f"set_config('{ORG_SETTING}', ({org_id_sql})::text, true)"

    def enter(self, org: Organisation, applied: str | None) -> None:
        """Act for `org`, which the statement's `setting()` column returned as `applied`: the
        database's setting and the Python side's organisation are the same or nothing runs."""
        if self.entered is not None:
            raise CrossOrgWriteError("The organisation of this transaction is already chosen.")
        expected = str(org.pk) if connection.vendor == "postgresql" else None
        if applied != expected:
            raise CrossOrgWriteError(
                f"The database set organisation {applied!r}, not {expected!r}: refusing to act."
            )
        self.entered = _current_org.set(org)


@contextmanager
def org_context_chosen_by_statement() -> Iterator[OrgChosenByStatement]:
    """Like `org_context`, for a caller that learns the organisation from its first statement
    (the bearer token's): that statement sets it too, saving a round trip on every API request.

    Until `enter()`, no organisation is current, and its setting is whatever the statement set:
    the statement itself must read only global tables (no row-level security applies to them).
    """
    ends_transaction = _opens_transaction()
    previous = _current_org.get()
    chosen = OrgChosenByStatement()
    with transaction.atomic():
        try:
            yield chosen
        finally:
            if chosen.entered is not None:
                _current_org.reset(chosen.entered)
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
