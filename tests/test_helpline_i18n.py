"""The helpline speaks the interface's languages: every message in its code and templates is in each
catalogue, translated, and the pages (the public report form above all) render in it.

Extraction here uses Django's own template-to-gettext conversion and Python's parser, never GNU
gettext, so the test needs nothing beyond the project's dependencies.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils.translation.template import templatize

from .conftest import World
from .helpline_helpers import contact_from
from .test_i18n import LOCALE_DIR, TRANSLATED, read_po

SOURCE = Path(__file__).resolve().parent.parent / "src" / "tessera" / "helpline"
GETTEXT_CALLS = {
    "_": 1,
    "gettext": 1,
    "gettext_lazy": 1,
    "ngettext": 2,
    "ngettext_lazy": 2,
    "pgettext": 2,
    "pgettext_lazy": 2,
}
_LITERAL = r"u?'(?:[^'\\]|\\.)*'"
_TEMPLATE_CALL = re.compile(
    rf"\b(n?p?gettext)\(({_LITERAL}(?:, {_LITERAL})*)(?:, count)?\)"  # as templatize() writes them
)


def _key(name: str, strings: list[str]) -> tuple[str | None, str]:
    return (
        (strings[0], strings[1])
        if name.startswith(("pgettext", "npgettext"))
        else (None, strings[0])
    )


def messages_in_python(path: Path) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        wanted = GETTEXT_CALLS.get(node.func.id)
        literals = [a.value for a in node.args[:wanted] if isinstance(a, ast.Constant)]
        if wanted and len(literals) == wanted and all(isinstance(v, str) for v in literals):
            found.add(_key(node.func.id, literals))
    return found


def messages_in_template(path: Path) -> set[tuple[str | None, str]]:
    converted = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = set()
    for name, arguments in _TEMPLATE_CALL.findall(converted):
        strings = [ast.literal_eval(s) for s in re.findall(_LITERAL, arguments)]
        found.add(_key(name, strings))
    return found


def helpline_messages() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" not in path.parts:
            found |= messages_in_python(path)
    for path in sorted(SOURCE.rglob("*.html")):
        found |= messages_in_template(path)
    return found


def test_extraction_finds_the_helpline_messages() -> None:
    found = helpline_messages()
    assert len(found) > 200
    assert (None, "Caller lookup") in found  # a template
    assert (None, "%(n)s earlier contact from this number") in found  # a plural in a template
    assert (None, "Perpetrator may answer") in found  # a model choice
    assert ("action", "Open") in found  # a message with a context


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_helpline_message_is_in_the_catalogue_and_translated(language: str) -> None:
    entries = read_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    translated = {
        (e.get("msgctxt"), e["msgid"])
        for e in entries
        if e.get("msgstr") and "fuzzy" not in e.get("flags", set())  # type: ignore[operator]
    }
    missing = sorted(helpline_messages() - translated, key=str)
    assert missing == [], "run `make messages` and translate the new entries"


@pytest.mark.parametrize(
    ("language", "heading", "direction"),
    [
        ("fr", "Signaler une exploitation ou demander de l\u2019aide", "ltr"),
        ("es", "Denunciar una explotación o pedir ayuda", "ltr"),
        ("ar", "الإبلاغ عن استغلال أو طلب المساعدة", "rtl"),
    ],
)
def test_the_public_report_form_speaks_the_visitors_language(
    world: World, language: str, heading: str, direction: str
) -> None:
    html = Client().get("/report/alpha/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'lang="{language}" dir="{direction}"' in html
    assert heading in html
    assert "What happened?" not in html


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_contact_page_is_translated(world: World, language: str) -> None:
    contact = contact_from(world, world.a, "+447700900313")
    client = world.client_for(world.a, "helpline_advisor")
    html = client.get(
        f"/helpline/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert "Caller lookup" not in html and "Find a person to link" not in html
