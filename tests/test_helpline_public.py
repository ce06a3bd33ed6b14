"""The public report form: works without cookies or JavaScript, in the visitor's language, and
holds up against abuse (rate limits per client and per organisation, honeypot, size limits)."""

from __future__ import annotations

import re
from collections import Counter

from django.test import Client

from tessera.helpline.models import Contact
from tessera.tenancy.context import org_context

from .conftest import World


def _token(client: Client, url: str = "/report/alpha/") -> str:
    page = client.get(url)
    assert page.status_code == 200
    found = re.search(r'name="form_token" value="([^"]+)"', page.content.decode())
    assert found is not None
    return found.group(1)


def _report(client: Client, token: str, ip: str = "198.51.100.1", **fields: str) -> object:
    data = {"form_token": token, "summary": "Workers locked in at night", **fields}
    return client.post("/report/alpha/", data, REMOTE_ADDR=ip)


def _count(world: World) -> int:
    with org_context(world.a):
        return Contact.objects.count()


def test_report_without_cookies_or_login_lands_in_the_queue(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    token = _token(client)
    assert not client.cookies, "the form must not need a cookie"
    response = _report(client, token, caller_phone="07700 900555", safety_flags="text_only")
    assert response.status_code == 200
    assert "received" in response.content.decode()
    with org_context(world.a):
        contact = Contact.objects.get()
        assert contact.channel == "web_form" and contact.triage_status == "new"
        assert contact.caller_phone == "+447700900555"
        assert contact.safety_flags == ["text_only"]


def test_default_receiving_organisation(world: World, settings: object) -> None:
    client = Client()
    settings.TESSERA_REPORT_DEFAULT_ORG = ""  # type: ignore[attr-defined]
    assert client.get("/report/").status_code == 404
    settings.TESSERA_REPORT_DEFAULT_ORG = "alpha"  # type: ignore[attr-defined]
    token = _token(client, "/report/")
    response = client.post("/report/", {"form_token": token, "summary": "x"})
    assert response.status_code == 200 and _count(world) == 1


def test_form_is_shown_in_the_visitors_language(world: World) -> None:
    page = Client().get("/report/alpha/?lang=fr")
    assert '<html lang="fr"' in page.content.decode()
    accept = Client().get("/report/alpha/", HTTP_ACCEPT_LANGUAGE="ar")
    assert 'dir="rtl"' in accept.content.decode()


def test_missing_or_forged_token_and_empty_report_are_refused_clearly(world: World) -> None:
    client = Client()
    token = _token(client)
    forged = client.post("/report/alpha/", {"form_token": "x:y:z", "summary": "x"})
    assert forged.status_code == 403 and "expired" in forged.content.decode()
    assert "x</textarea>" in forged.content.decode(), "the visitor's text is kept"
    other_org = client.post("/report/beta/", {"form_token": token, "summary": "x"})
    assert other_org.status_code == 403
    cross_site = client.post(
        "/report/alpha/",
        {"form_token": token, "summary": "x"},
        HTTP_ORIGIN="https://evil.example",
    )
    assert cross_site.status_code == 403
    fetched = client.post(
        "/report/alpha/", {"form_token": token, "summary": "x"}, HTTP_SEC_FETCH_SITE="cross-site"
    )
    assert fetched.status_code == 403
    same_origin = client.post(
        "/report/alpha/", {"form_token": token, "summary": "ok"}, HTTP_ORIGIN="http://testserver"
    )
    assert same_origin.status_code == 200
    hidden_origin = client.post(
        "/report/alpha/",
        {"form_token": token, "summary": "ok"},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert hidden_origin.status_code == 200, "no-referrer pages post with Origin: null"
    assert _count(world) == 2
    empty = _report(client, token, summary=" ")
    assert empty.status_code == 400 and "what happened" in empty.content.decode()
    bad_phone = _report(client, token, caller_phone="call me maybe")
    assert bad_phone.status_code == 400 and 'aria-invalid="true"' in bad_phone.content.decode()
    assert _count(world) == 2


def test_honeypot_submissions_are_thanked_but_not_stored(world: World) -> None:
    client = Client()
    response = _report(client, _token(client), website="http://spam.example")
    assert response.status_code == 200 and _count(world) == 0


def test_oversized_submission_gets_a_clear_413(world: World) -> None:
    client = Client()
    response = _report(client, _token(client), summary="x" * 30_000)
    assert response.status_code == 413
    assert "too long" in response.content.decode()
    assert _count(world) == 0


def test_thousand_rapid_submissions_from_one_client_are_rate_limited(
    world: World, settings: object
) -> None:
    """1,000 submissions from one address: the first few are stored, the rest get 429 without
    touching the database; other clients are still accepted and the server stays healthy."""
    limit = settings.TESSERA_REPORT_RATE_PER_IP[0]  # type: ignore[attr-defined]
    client = Client()
    token = _token(client)
    statuses = Counter(_report(client, token, ip="203.0.113.66").status_code for _ in range(1000))
    assert statuses == Counter({200: limit, 429: 1000 - limit})
    assert _count(world) == limit
    for n in range(3):
        other = _report(Client(), token, ip=f"192.0.2.{n + 10}")
        assert other.status_code == 200
    api = Client().post(
        "/api/v1/public/reports",
        '{"org": "alpha", "summary": "from a partner app"}',
        content_type="application/json",
        REMOTE_ADDR="203.0.113.66",
    )
    assert api.status_code == 429 and "Too many" in api.json()["detail"]
    assert Client().get("/healthz").status_code == 200
    assert _count(world) == limit + 3


def test_the_organisation_ceiling_holds_against_many_addresses(
    world: World, settings: object
) -> None:
    settings.TESSERA_REPORT_RATE_PER_ORG = (5, 3600)  # type: ignore[attr-defined]
    client = Client()
    token = _token(client)
    statuses = [_report(client, token, ip=f"192.0.2.{n}").status_code for n in range(8)]
    assert statuses == [200] * 5 + [429] * 3


def test_behind_a_trusted_proxy_clients_are_counted_by_forwarded_address(
    world: World, settings: object
) -> None:
    settings.TESSERA_REPORT_RATE_PER_IP = (2, 3600)  # type: ignore[attr-defined]
    settings.TESSERA_TRUST_X_FORWARDED_FOR = True  # type: ignore[attr-defined]
    client = Client()
    token = _token(client)

    def send(forwarded: str) -> int:
        return client.post(
            "/report/alpha/",
            {"form_token": token, "summary": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    assert [send("198.51.100.7") for _ in range(3)] == [200, 200, 429]
    assert send("198.51.100.8") == 200
    # The client writes whatever it likes to the left of what the proxy appends: no way around it.
    assert send("203.0.113.1, 198.51.100.7") == 429
    assert send("203.0.113.2, 198.51.100.7") == 429
