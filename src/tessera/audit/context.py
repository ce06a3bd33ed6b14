"""Who is acting and from where, for the audit trail; set once per request or task."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    ip: str | None = None


SYSTEM_ACTOR = Actor(user_id=None, label="system")

_current_actor: ContextVar[Actor] = ContextVar("tessera_audit_actor", default=SYSTEM_ACTOR)


def current_actor() -> Actor:
    return _current_actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current_actor.set(actor)
    try:
        yield actor
    finally:
        _current_actor.reset(token)
