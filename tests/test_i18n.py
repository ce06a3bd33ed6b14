"""Languages: complete catalogues, compiled files in step with their sources, and language choice."""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tessera.htcds import catalogue
from tessera.htcds.labels import LABELS

from .conftest import World

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _unquote(line: str) -> str:
    value = ast.literal_eval(line)
    assert isinstance(value, str)
    return value


def read_po(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (str or {n: str}), flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            key = None
        elif line.startswith("#,"):
            entry.setdefault("flags", set()).update(  # type: ignore[union-attr]
                flag.strip() for flag in line[2:].split(",")
            )
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert key is not None, f"{path}: continuation without a keyword: {raw}"
            name, index = key
            if index is None:
                entry[name] = str(entry[name]) + _unquote(line)
            else:
                forms = entry[name]
                assert isinstance(forms, dict)
                forms[index] += _unquote(line)
        else:
            keyword, _space, rest = line.partition(" ")
            if keyword.startswith("msgstr["):
                index = int(keyword[len("msgstr[") : -1])
                entry.setdefault("msgstr", {})[index] = _unquote(rest)  # type: ignore[index]
                key = ("msgstr", index)
            else:
                entry[keyword] = _unquote(rest)
                key = (keyword, None)
    finish()
    return entries


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    entries = read_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    messages = [e for e in entries if e["msgid"]]
    assert len(messages) > 400
    untranslated = [
        e["msgid"]
        for e in messages
        if "fuzzy" in e.get("flags", set())  # type: ignore[operator]
        or not e.get("msgstr")
        or (isinstance(e["msgstr"], dict) and not all(e["msgstr"].values()))
    ]
    assert untranslated == []


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="GNU gettext is not installed (apt-get install gettext): strings are not extracted",
)
def test_every_translatable_string_in_the_code_is_in_the_catalogues(tmp_path: Path) -> None:
    """Strings added to the code since the last `make messages` would show in English only: extract
    them again, from a copy of the package (the catalogues themselves are not touched), and compare."""
    copy = tmp_path / "src" / "tessera"
    shutil.copytree(
        LOCALE_DIR.parent, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static")
    )
    extract = (
        "import tessera, django, pathlib, sys\n"
        "assert pathlib.Path(tessera.__file__).is_relative_to(sys.argv[1]), tessera.__file__\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('makemessages', locale=['fr'], add_location='file', no_obsolete=True,\n"
        "             ignore_patterns=['privacy/*'], verbosity=0)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    environment["DJANGO_SETTINGS_MODULE"] = "tessera.settings.test"
    result = subprocess.run(
        [sys.executable, "-c", extract, str(copy)],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    extracted = read_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    committed = read_po(LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po")
    key = lambda e: (e.get("msgctxt"), e["msgid"], e.get("msgid_plural"))  # noqa: E731
    missing = sorted(
        str(e["msgid"]) for e in extracted if key(e) not in {key(c) for c in committed}
    )
    assert missing == [], "run `make messages` and translate these"


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    """The committed .mo holds exactly the .po's translations (run `make messages` after edits)."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    expected: dict[object, str] = {}
    for e in read_po(folder / "django.po"):
        msgid = str(e["msgid"])
        if "msgctxt" in e:
            msgid = f"{e['msgctxt']}\x04{msgid}"
        msgstr = e["msgstr"]
        if isinstance(msgstr, dict):
            for index, form in msgstr.items():
                expected[(msgid, index)] = form
        elif msgid:
            expected[msgid] = str(msgstr)
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    actual = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert actual == expected


@pytest.mark.parametrize("language", TRANSLATED)
def test_htcds_labels_and_picklists_are_translated(language: str) -> None:
    entries = read_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    translated = {e["msgid"] for e in entries if e.get("msgstr")}
    assert [label for label in LABELS if label not in translated] == []
    with translation.override(language):
        exploitation = dict(catalogue.choices_for("vic_TypeOfExploitation"))
        field_label = catalogue.field("prs_FirstName").translated_label
    assert field_label != "First Name"
    assert exploitation["ForcedLabour"] != "Forced labour"


def test_arabic_pages_render_right_to_left(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ar")
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    english = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en" dir="ltr">' in english


def test_accept_language_chooses_the_interface_language(client: Client) -> None:
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert "Aller au contenu" in html  # "Skip to content"
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Ir al contenido" in html


def test_a_users_saved_language_beats_accept_language(world: World) -> None:
    user = world.user(world.a, "caseworker")
    user.preferred_language = "es"
    user.save(update_fields=["preferred_language"])
    client = world.client_for(world.a, "caseworker")
    html = client.get("/cases/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="es"' in html
    assert "Casos" in html


def test_the_switcher_sets_the_language_and_remembers_it(world: World) -> None:
    client = world.client_for(world.a, "caseworker")
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/cases/"})
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    world.user(world.a, "caseworker").refresh_from_db()
    assert world.user(world.a, "caseworker").preferred_language == "ar"
    html = client.get("/cases/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'dir="rtl"' in html
    assert "القضايا" in html  # "Cases"
    # The cookie set by the switcher wins over an older saved preference on this browser.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert '<html lang="fr"' in client.get("/cases/").content.decode()


def test_the_switcher_works_before_login_and_ignores_unknown_languages(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "tlh", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/accounts/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert "Aller au contenu" in client.get("/accounts/login/").content.decode()
