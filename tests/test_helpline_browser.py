"""In a real browser: a report sent through /report/ reaches the triage queue; an advisor opens it,
sees the caller lookup, links it to a new case and completes a task; the dashboard counts it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tessera.tenancy.roles import Role

from .conftest import World
from .helpline_helpers import contact_from

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and shutil.which("chromium") is None,
        reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]
sync_playwright = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
).sync_playwright


@pytest.fixture
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def serial_server(transactional_db: None) -> Iterator[str]:
    """A live server answering one request at a time (see browser_support.SerialLiveServerThread):
    on in-memory SQLite the server shares the test's connection, and HTMX's badge request would
    otherwise interleave with a page's own."""
    from .browser_support import serial_live_server

    with serial_live_server() as url:
        yield url


def _logged_in(browser: Any, world: World, role: Role, base: str) -> Any:
    client = Client()
    client.force_login(world.user(world.a, role))
    context = browser.new_context(base_url=base)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    return context.new_page()


def test_report_to_case_to_dashboard(
    world: World, serial_server: str, browser: Any, settings: Any
) -> None:
    settings.TESSERA_REPORT_DEFAULT_ORG = world.a.slug
    cache.clear()
    contact_from(world, world.a, "+447700900246", safety_flags=["perpetrator_may_answer"])
    base = serial_server

    public = browser.new_context(base_url=base, java_script_enabled=False).new_page()
    public.goto("/report/")
    public.fill("#summary", "Three men sleep in the car wash office and are never paid.")
    public.fill("#location", "High Street car wash")
    public.fill("#caller_phone", "07700 900246")
    public.check("input[value=public]")
    public.click("#send-report")
    assert "your report has been received" in public.text_content("h1").lower()

    advisor = _logged_in(browser, world, Role.HELPLINE_ADVISOR, base)
    advisor.goto("/helpline/")
    advisor.locator("#triage-queue a").first.click()
    advisor.click("#take-contact")
    lookup = advisor.text_content("#caller-lookup") or ""
    assert "1 earlier contact from this number" in lookup
    assert "perpetrator_may_answer" in lookup
    advisor.click("#link-new-case")
    assert re.match(r"\d{4}-\d{6}", advisor.text_content("#linked-case") or "")
    advisor.fill("#task-title", "Safe call back by text")
    advisor.click("#add-task")
    advisor.click("button.complete-task")
    assert "Done" in (advisor.text_content("#contact-tasks") or "")
    advisor.goto("/helpline/")
    assert advisor.locator("#triage-queue").count() == 0

    supervisor = _logged_in(browser, world, Role.SUPERVISOR, base)
    supervisor.goto("/helpline/dashboard/")
    assert supervisor.text_content("#figure-total") == "2"
    assert (supervisor.text_content("#figure-converted") or "").startswith("1 (50.0")
    supervisor.wait_for_selector("body[data-charts-drawn=true]")
