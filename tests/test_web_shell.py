"""The web shell: health check, the pages each role sees, accessibility basics, nothing external."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve, reverse
from django.utils import translation

from tessera.audit.models import AuditEvent
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import ROLE_PERMISSIONS, Role, role_has_perm
from tessera.web import views as web_views

from .conftest import TEST_PASSWORD, World, make_member
from .support import log_in, post_form
from .walls import PUBLIC, path_objects, web_endpoints
from .walls import module_world as module_world

STATIC_DIR = web_views.__file__.rsplit("/", 1)[0] + "/static"


@pytest.fixture
def world(module_world: World, db: None) -> World:
    """One world per module (each test's changes are rolled back)."""
    return module_world


# --- Health check --------------------------------------------------------------------------------


def test_healthz_answers_200_json_when_the_database_answers(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


class _UnreachableDatabase:
    vendor = "postgresql"

    def cursor(self) -> Any:
        raise OperationalError('could not connect to server: Connection refused (host "db-7")')


def test_healthz_answers_503_without_details_when_the_database_is_unreachable(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_views, "connection", _UnreachableDatabase())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert b"db-7" not in response.content


# --- What each role sees ------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_the_dashboard_names_the_organisation_and_the_role(world: World, role: str) -> None:
    response = world.client_for(world.a, role).get(reverse("web:dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    assert world.a.name in page
    assert str(Role(role).label) in page
    assert world.b.name not in page


def _linked_views(page: str) -> set[str]:
    names = set()
    for href in re.findall(r'href="(/[^"#?]*)', page):
        try:
            match = resolve(href)
        except Exception:  # noqa: S112  (links to static files and the like)
            continue
        names.add(match.view_name)
    return names


NAV_PAGES = ["web:dashboard", "web:members", "web:audit_trail", "web:tokens"]


@pytest.mark.parametrize("role", Role.values)
def test_the_navigation_links_exactly_the_pages_the_role_may_open(world: World, role: str) -> None:
    page = world.client_for(world.a, role).get(reverse("web:dashboard")).content.decode()
    linked = _linked_views(page)
    for name in NAV_PAGES:
        perm = getattr(resolve(reverse(name)).func, "required_perm", None)
        allowed = perm is None or role_has_perm(role, perm)
        assert (name in linked) == allowed, f"{name} linked={name in linked} allowed={allowed}"


def test_the_members_page_lists_the_organisations_members_with_their_roles(world: World) -> None:
    page = world.client_for(world.a, Role.ORG_ADMIN).get(reverse("web:members")).content.decode()
    for role in Role:
        assert world.user(world.a, role).email in page
        assert str(role.label) in page
    assert world.user(world.b, Role.ORG_ADMIN).email not in page


@pytest.mark.parametrize(
    "role", [r for r in Role.values if "audit.view" in ROLE_PERMISSIONS[Role(r)]]
)
def test_the_audit_trail_lists_the_organisations_events_newest_first(
    world: World, role: str
) -> None:
    client = world.client_for(world.a, role)
    page = client.get(reverse("web:audit_trail")).content.decode()
    with org_context(world.a):
        events = list(AuditEvent.objects.order_by("-seq")[:50])
    links = [reverse("web:audit_event", args=[e.pk]) for e in events]
    positions = [page.index(f'href="{link}"') for link in links]
    assert positions == sorted(positions)
    event = events[-1]
    detail = client.get(links[-1]).content.decode()
    assert event.hash in detail
    assert event.action in detail


def test_someone_with_no_membership_is_told_so(world: World) -> None:
    outsider = make_member(world.a, Role.ANALYST, email="former@alpha.test")
    outsider.memberships.all().delete()
    client = Client()
    client.force_login(outsider)
    response = client.get("/")
    assert response.status_code == 403
    assert "not a member of any organisation" in response.content.decode()


# --- Every page: accessibility basics, CSP-safe markup, nothing external -------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    inside_label: bool


@dataclass
class PageParser(HTMLParser):
    elements: list[Element] = field(default_factory=list)
    label_depth: int = 0
    inline_scripts: list[str] = field(default_factory=list)
    _script_open: bool = False
    title: str = ""
    _in_title: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        self.elements.append(Element(tag, values, self.label_depth > 0))
        if tag == "label":
            self.label_depth += 1
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self._script_open = True
        if tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)
        if tag == "script":
            self._script_open = False
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._script_open and data.strip():
            self.inline_scripts.append(data.strip()[:60])
        if self._in_title:
            self.title += data

    def first(self, tag: str) -> Element:
        return next(e for e in self.elements if e.tag == tag)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


@dataclass(frozen=True)
class Page:
    id: str
    who: str  # anonymous, mfa-step, org_admin, outsider, (no-mfa-)reauthenticated
    path: Callable[[World, Any], str]


def _web_page_path(name: str, params: tuple[str, ...]) -> Callable[[World, Any], str]:
    def build(world: World, user: Any) -> str:
        values = {}
        for param in params:
            objects = path_objects(next(e for e in web_endpoints() if e.name == name), param)
            assert objects is not None, f"no PathObjects factory for {name}:{param}"
            values[param] = objects.own(world, user).pk
        return reverse(name, kwargs=values)

    return build


def _fixed(path: str) -> Callable[[World, Any], str]:
    return lambda _world, _user: path


# Endpoints that are not pages: POST-only actions (they redirect), HTMX fragments and downloads.
NOT_PAGES = frozenset(
    {
        "helpline:contact_take",
        "helpline:contact_link_case",
        "helpline:task_add",
        "helpline:task_complete",
        "helpline:alerts_badge",
        "helpline:dashboard_csv",
    }
)


def _html_web_pages() -> list[Page]:
    pages = []
    for endpoint in web_endpoints():
        if PUBLIC in endpoint.access.values() or endpoint.name in ("web:switch_org", "web:home"):
            continue  # JSON or redirect-only
        if endpoint.name == "web:revoke_token" or endpoint.name in NOT_PAGES:
            continue  # POST-only, fragments, downloads
        pages.append(
            Page(endpoint.name, "org_admin", _web_page_path(endpoint.name, endpoint.params))
        )
    return pages


PAGES = [
    *_html_web_pages(),
    Page("no membership", "outsider", _fixed("/")),
    Page("login", "anonymous", _fixed("/accounts/login/")),
    Page("password reset", "anonymous", _fixed("/accounts/password/reset/")),
    Page("sign-up (closed)", "anonymous", _fixed("/accounts/signup/")),
    Page("second factor", "mfa-step", _fixed("/accounts/2fa/authenticate/")),
    Page("security settings", "org_admin", _fixed("/accounts/2fa/")),
    Page("reauthenticate", "org_admin", _fixed("/accounts/reauthenticate/")),
    Page("change password", "org_admin", _fixed("/accounts/password/change/")),
    Page("recovery codes", "reauthenticated", _fixed("/accounts/2fa/recovery-codes/generate/")),
    Page("TOTP enrolment", "no-mfa-reauthenticated", _fixed("/accounts/2fa/totp/activate/")),
    Page("API docs", "anonymous", _fixed("/api/v1/docs")),
    Page("public report form", "anonymous", _fixed("/report/alpha/")),
]


def _render(world: World, page: Page, language: str = "en") -> HttpResponse:
    client = Client(headers={"Accept-Language": language})
    user = world.user(world.a, Role.ORG_ADMIN)
    if page.who == "org_admin":
        client.force_login(user)
    elif page.who == "outsider":
        outsider = make_member(world.a, Role.ANALYST, email="former@alpha.test")
        outsider.memberships.all().delete()
        client.force_login(outsider)
    elif page.who == "mfa-step":
        log_in(client, user.email, TEST_PASSWORD)
    elif page.who.endswith("reauthenticated"):
        if page.who.startswith("no-mfa"):
            user = make_member(world.a, Role.CASEWORKER, email="new@alpha.test", mfa=False)
        client.force_login(user)
        post_form(client, "/accounts/reauthenticate/", {"password": TEST_PASSWORD})
    response = client.get(page.path(world, user))
    # POST-only actions, downloads and HTMX fragments are not pages: the enumeration covers them.
    if response.status_code == 405:
        pytest.skip(f"{page.id} accepts POST only")
    if (
        not response.get("Content-Type", "").startswith("text/html")
        or b"<html" not in response.content
    ):
        pytest.skip(f"{page.id} answers a fragment or a file, not a page")
    assert response.status_code in (200, 403), f"{page.id}: {response.status_code}"
    return response


CONTROLS = {"input", "select", "textarea"}
UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_every_form_control_has_a_label(world: World, page: Page) -> None:
    parsed = parse(_render(world, page).content.decode())
    label_targets = {e.attrs.get("for") for e in parsed.elements if e.tag == "label"}
    unlabelled = [
        e.attrs
        for e in parsed.elements
        if e.tag in CONTROLS
        and e.attrs.get("type", "text") not in UNLABELLED_INPUT_TYPES
        and not e.inside_label
        and e.attrs.get("id") not in label_targets
        and not e.attrs.get("aria-label")
        and not e.attrs.get("aria-labelledby")
    ]
    assert unlabelled == []


@pytest.mark.parametrize("page", [p for p in PAGES if p.id != "API docs"], ids=lambda p: p.id)
def test_every_page_declares_its_language_and_direction_and_has_a_skip_link(
    world: World, page: Page
) -> None:
    parsed = parse(_render(world, page).content.decode())
    html = parsed.first("html")
    assert html.attrs.get("lang") == "en"
    assert html.attrs.get("dir") == "ltr"
    assert parsed.title.strip()
    first_link = parsed.first("a")
    assert first_link.attrs.get("href") == "#main"
    assert any(e.attrs.get("id") == "main" and e.tag == "main" for e in parsed.elements)


@pytest.mark.parametrize(
    "page", [PAGES[0], next(p for p in PAGES if p.id == "login")], ids=lambda p: p.id
)
def test_arabic_pages_are_right_to_left(world: World, page: Page) -> None:
    parsed = parse(_render(world, page, language="ar").content.decode())
    html = parsed.first("html")
    assert html.attrs.get("lang") == "ar"
    assert html.attrs.get("dir") == "rtl"
    translation.activate("en")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_pages_carry_no_inline_script_or_style_that_the_csp_would_block(
    world: World, page: Page
) -> None:
    parsed = parse(_render(world, page).content.decode())
    assert parsed.inline_scripts == []
    assert [e.tag for e in parsed.elements if e.tag == "style"] == []
    assert [e.tag for e in parsed.elements if "style" in e.attrs] == []
    handlers = [(e.tag, k) for e in parsed.elements for k in e.attrs if k.startswith("on")]
    assert handlers == []


EXTERNAL_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*")
# XML namespace names are identifiers, never fetched.
XML_NAMESPACE = re.compile(r'xmlns(?::\w+)?="[^"]*"')


def _external_urls(text: str) -> list[str]:
    return EXTERNAL_URL.findall(XML_NAMESPACE.sub("", text))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_pages_reference_no_other_host_and_only_static_assets_that_exist(
    world: World, page: Page
) -> None:
    html = _render(world, page).content.decode()
    assert _external_urls(html) == []
    parsed = parse(html)
    references = [
        e.attrs[attribute]
        for e in parsed.elements
        for attribute in ("src", "href")
        if e.attrs.get(attribute, "").startswith("/static/")
    ]
    for reference in references:
        assert finders.find(reference.removeprefix("/static/")), f"{reference} does not exist"
    if page.who == "anonymous":
        for reference in references:
            assert Client().get(reference).status_code == 200, reference


@pytest.mark.parametrize(
    "asset", ["tessera/tessera.css", "tessera/vendor/htmx-2.0.11.min.js"], ids=str
)
def test_our_static_assets_load_nothing_from_other_hosts(asset: str) -> None:
    path = finders.find(asset)
    assert path
    text = open(path, encoding="utf-8").read()  # noqa: SIM115
    assert re.findall(r"url\(\s*['\"]?(?:https?:)?//", text) == []
    assert re.findall(r"@import\s+(?:url\()?\s*['\"]?(?:https?:)?//", text) == []
    if asset.endswith(".js"):
        # htmx is driven by attributes in our own pages: it fetches only what they name.
        assert 'document.createElement("script")' not in text
