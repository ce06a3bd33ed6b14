"""Timestamps read from PostgreSQL by the standard library's parser are exactly Django's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.tenancy.timestamps import IsoTimestamptzLoader

from .conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (TESSERA_TEST_POSTGRES)"),
    pytest.mark.django_db,
]


class DjangosLoader(BaseTzLoader):  # type: ignore[misc]
    timezone = UTC


@pytest.fixture
def cursor() -> Iterator[object]:
    with connection.cursor() as cursor:
        yield cursor


def _text_of(cursor: object, sql: str, params: list[object]) -> bytes:
    cursor.execute(f"SELECT ({sql})::text", params)  # type: ignore[attr-defined]
    text: str = cursor.fetchone()[0]  # type: ignore[attr-defined]
    return text.encode()


def _both(cursor: object, raw: bytes) -> tuple[object, object]:
    pg = cursor.connection  # type: ignore[attr-defined]
    ours, django = IsoTimestamptzLoader(1184, pg), DjangosLoader(1184, pg)
    ours.timezone = UTC

    def load(loader: BaseTzLoader) -> object:
        try:
            return loader.load(raw)
        except Exception as exc:  # the same failure is what is compared
            return type(exc)

    return load(ours), load(django)


def test_connections_use_the_iso_loader(cursor: object) -> None:
    cursor.execute("SELECT now()")  # type: ignore[attr-defined]
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert issubclass(loader, IsoTimestamptzLoader)
    assert loader.timezone == connection.timezone
    assert cursor.fetchone()[0].tzinfo == UTC  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)))
def test_every_timestamp_reads_as_djangos_loader_reads_it(moment: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [moment])
        assert cursor.fetchone()[0] == moment
        raw = _text_of(cursor, "%s::timestamptz", [moment])
        ours, django = _both(cursor, raw)
    assert ours == django and type(ours) is type(django)
    assert getattr(ours, "tzinfo", None) is getattr(django, "tzinfo", None)


@pytest.mark.parametrize(
    "value",
    [
        "infinity",
        "-infinity",
        "0044-03-15 12:00:00+00 BC",
        "2026-12-02 14:07:50.5+00",
        "2026-12-02 14:07:50+00",
        "0001-01-01 00:00:00+00",
    ],
)
def test_special_values_read_or_fail_as_with_djangos_loader(cursor: object, value: str) -> None:
    ours, django = _both(cursor, _text_of(cursor, "%s::timestamptz", [value]))
    assert ours == django


def test_another_session_time_zone_falls_back_to_djangos_loader(cursor: object) -> None:
    cursor.execute("SET LOCAL TIME ZONE 'Asia/Kolkata'")  # type: ignore[attr-defined]
    raw = _text_of(cursor, "%s::timestamptz", ["2026-12-02 14:07:50.25+00"])
    assert raw.endswith(b"+05:30")
    ours, django = _both(cursor, raw)
    assert ours == django
