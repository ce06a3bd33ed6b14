"""End to end in a real browser: Debian's Chromium driven by Playwright against a live server.

Kept to one journey per wall (they are slow compared with the rest of the suite). Skipped, with the
reason shown, where /usr/bin/chromium (or TESSERA_CHROMIUM) or the playwright package is missing:
browsers are never downloaded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings

from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Role

from .browser_support import serial_live_server
from .conftest import TEST_PASSWORD, TOTP_SECRET, World, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path(os.environ.get("TESSERA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def totp_now(secret: str = TOTP_SECRET) -> str:
    """The current RFC 6238 code (SHA-1, 6 digits, 30 s), as an authenticator app shows it."""
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous and safe, so Django's async guard is lifted for the duration.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield launched
            launched.close()


@pytest.fixture
def site(transactional_db: None, settings: LazySettings) -> Iterator[str]:
    # One step of clock tolerance: a code computed at the end of a 30 s window stays valid.
    settings.MFA_TOTP_TOLERANCE = 1
    with serial_live_server() as url:
        yield url


def log_in(browser: Any, site: str, email: str) -> Any:
    """A fresh browser session for `email`: password, then the TOTP code from the shared secret."""
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{site}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", totp_now())
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/" not in url)
    return page


def test_caseworker_records_a_case_that_other_walls_keep_out(
    browser: Any, site: str, world: World
) -> None:
    owner = world.user(world.a, Role.CASEWORKER)
    Membership.objects.filter(user=owner).update(team="north")
    outsider = make_member(world.a, Role.CASEWORKER, "south@alpha.test")
    Membership.objects.filter(user=outsider).update(team="south")

    # The caseworker opens a restricted case and records its people, an event, a plan, consent.
    page = log_in(browser, site, owner.email)
    page.goto(f"{site}/cases/")
    page.select_option("#sensitivity", "restricted")
    page.click("#open-case")
    page.wait_for_url("**/cases/*-*/**")
    case_url = page.url.split("?")[0]
    reference = page.locator("h1").inner_text().removeprefix("Case ").strip()
    assert reference

    page.select_option("#role", "PotentialVictim")
    page.fill("#f-prs_FirstName", "Amina")
    page.fill("#f-prs_SecondName", "Haddad")
    page.fill("#f-prs_MobilePhone", "+44 7700 900123")
    page.click("#add-party button[type=submit]")
    page.wait_for_selector("text=Saved.")
    page.select_option("#role", "Perpetrator")
    page.fill("#f-prs_FirstName", "Viktor")
    page.click("#add-party button[type=submit]")
    people = page.locator("#tab-panel ul").first.inner_text()
    assert "Amina Haddad" in people
    assert "Viktor" in people

    page.goto(f"{case_url}?tab=events")
    page.select_option("#f-hte_Type", "Exploitation")
    page.click("#record-event button[type=submit]")
    page.wait_for_selector("text=Saved.")
    assert "Exploitation —" in page.locator("#tab-panel ul").first.inner_text()

    page.goto(f"{case_url}?tab=plan")
    page.fill("#goal", "Safe housing within a week")
    page.click("#create-plan button[type=submit]")
    page.wait_for_selector("text=Safe housing within a week")

    page.goto(f"{case_url}?tab=consent")
    page.select_option("#purpose", "care")
    page.click("#record-consent button[type=submit]")
    page.wait_for_selector("text=Saved.")
    assert "given" in page.locator("#tab-panel ul").first.inner_text()
    page.context.close()

    # A caseworker of another organisation can neither find the case nor open it.
    stranger = log_in(browser, site, world.user(world.b, Role.CASEWORKER).email)
    stranger.goto(f"{site}/cases/?q={reference}")
    assert "No cases match." in stranger.locator("#case-results").inner_text()
    assert stranger.goto(case_url).status == 404
    assert stranger.goto(f"{case_url}break-glass/").status == 404
    stranger.context.close()

    # A colleague outside the case's team sees nothing until break-glass with a reason.
    colleague = log_in(browser, site, outsider.email)
    colleague.goto(f"{site}/cases/?q={reference}")
    assert reference not in colleague.locator("#case-results").inner_text()
    assert colleague.goto(case_url).status == 404
    colleague.goto(f"{case_url}break-glass/")
    colleague.fill("#reason", "Survivor at the front desk; the owner is unreachable")
    colleague.click("form button[type=submit]:has-text('Open the case for one hour')")
    colleague.wait_for_url(f"{case_url}**")
    assert reference in colleague.locator("h1").inner_text()
    assert "Amina Haddad" in colleague.locator("#tab-panel").inner_text()
    colleague.context.close()


def test_an_org_admin_adds_a_field_that_caseworkers_then_fill_in(
    browser: Any, site: str, world: World
) -> None:
    from tessera.cases import services
    from tessera.tenancy.context import org_context

    admin_member = Membership.objects.select_related("org", "user").get(
        user=world.user(world.a, Role.ORG_ADMIN), org=world.a
    )
    with org_context(world.a):
        services.define_extension_field(
            actor=admin_member, entity="case", name="referral-source", label="Source", type="text"
        )
    admin = log_in(browser, site, world.user(world.a, Role.ORG_ADMIN).email)
    admin.click("nav >> text=Extension fields")
    admin.wait_for_url("**/cases/extension-fields/")
    # Every control is reached by its label; the browser itself refuses a malformed name.
    admin.get_by_label("Applies to").select_option("case")
    admin.get_by_label("Name").fill("intake_channel")
    assert admin.locator("#x-name:invalid").count() == 1
    admin.get_by_label("Name").fill("referral-source")
    admin.get_by_label("Label").fill("Intake channel")
    admin.get_by_label("Type").select_option("picklist")
    admin.get_by_label("Picklist values").fill("Web form\nPhone")
    admin.get_by_label("Required").check()
    admin.get_by_label("Required").press("Tab")
    admin.keyboard.press("Enter")
    # htmx swaps the form in place with the server's error beside the name; nothing reloads.
    error = admin.locator("#x-name-err")
    error.wait_for()
    assert "already has a field" in error.inner_text()
    assert admin.url.endswith("/cases/extension-fields/")
    assert admin.locator("#x-name").get_attribute("aria-invalid") == "true"
    assert admin.get_by_label("Picklist values").input_value() == "Web form\nPhone"
    admin.get_by_label("Name").fill("intake-channel")
    admin.get_by_role("button", name="Add field").click()
    admin.wait_for_selector("text=Field intake-channel added.")
    assert "Web form, Phone" in admin.locator("table").first.inner_text()
    admin.context.close()

    caseworker = log_in(browser, site, world.user(world.a, Role.CASEWORKER).email)
    caseworker.goto(f"{site}/cases/new/")
    caseworker.get_by_label("Intake channel").select_option("Phone")
    caseworker.get_by_role("button", name="Open the case").click()
    caseworker.wait_for_url("**/cases/*-*/**")
    caseworker.goto(f"{caseworker.url.split('?')[0]}?tab=details")
    assert "Phone" in caseworker.locator("#tab-panel dl").inner_text()
    caseworker.context.close()
