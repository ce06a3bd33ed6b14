"""Submissions of IOM's `htcds_xlsform` exported from ODK Central or KoboToolbox (CSV or JSON).

The form definition is read with pyxform, not hard-coded: each question's name is matched to its
HTCDS field (the form says `prs_First_Name` and `vic_Methods_of_Control` where the standard says
`prs_FirstName` and `vic_MethodsOfControl`), and its type says how to read the answers
(`select_multiple` answers are space-separated). Each submission becomes one case with one person;
its instance id is the source key, so the same submission is never imported twice.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from tessera.exchange.flat import _add_row
from tessera.exchange.safety import MAX_CELL_CHARS, ExchangeFileError, decode_text
from tessera.exchange.units import Problem, Unit, assign_keys
from tessera.htcds.catalogue import fields

# Columns that ODK Central and KoboToolbox add around the answers.
META = {
    "start",
    "end",
    "today",
    "deviceid",
    "SubmissionDate",
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
    "instanceID",
    "meta-instanceID",
    "meta/instanceID",
    "meta-instanceName",
    "formhub/uuid",
    "__version__",
    "__id",
    "__system",
    "version",
}
INSTANCE_KEYS = ("meta/instanceID", "meta-instanceID", "instanceID", "KEY", "__id", "_uuid")


@dataclass(frozen=True)
class Question:
    name: str
    field: str
    kind: str  # pyxform's type: "text", "select one", "select all that apply", "date", …


def _squash(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


PACKAGED_QUESTIONS = Path(__file__).with_name("data") / "htcds_xlsform_questions.json"


def official_form_path() -> Path:
    """IOM's official form in the shared reference folder (used to generate the packaged map)."""
    shared = os.environ.get("TESSERA_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[3].parent / "shared"
    return root / "reference" / "htcds" / "source" / "htcds_xlsform.xlsx"


def form_path() -> Path | None:
    """An organisation's own version of the form, when TESSERA_XLSFORM names one."""
    configured = getattr(settings, "TESSERA_XLSFORM", "") or os.environ.get("TESSERA_XLSFORM", "")
    return Path(configured) if configured else None


def questions_from_form(source: Path) -> dict[str, Question]:
    """Read a form definition with pyxform: each question with the HTCDS field it fills."""
    # pyxform ships no type information; its one entry point used here returns a plain dict.
    parse_file_to_json = importlib.import_module("pyxform.xls2json").parse_file_to_json
    if not source.exists():
        raise ExchangeFileError(
            _("The XLSForm definition %(path)s is missing (set TESSERA_XLSFORM).")
            % {"path": source}
        )
    definition = parse_file_to_json(str(source))
    by_squash = {_squash(name): name for name in fields()}
    out = {}
    for child in definition.get("children", []):
        name = child.get("name", "")
        htcds = by_squash.get(_squash(name))
        if htcds is not None:
            out[name] = Question(name=name, field=htcds, kind=str(child.get("type", "")))
    return out


def packaged_questions() -> dict[str, Question]:
    """The official form's map, generated into the package (`python -m tessera.exchange.xlsform`)."""
    rows = json.loads(PACKAGED_QUESTIONS.read_text(encoding="utf-8"))
    return {row["name"]: Question(**row) for row in rows}


@cache
def questions(path: str = "") -> dict[str, Question]:
    """The form's questions by name: a given or configured form, else the official one as packaged."""
    source = Path(path) if path else form_path()
    return questions_from_form(source) if source is not None else packaged_questions()


def write_packaged_questions(source: Path | None = None) -> Path:
    found = questions_from_form(source or official_form_path())
    rows = [vars(q) for q in sorted(found.values(), key=lambda q: q.name)]
    PACKAGED_QUESTIONS.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return PACKAGED_QUESTIONS


def _records(data: bytes) -> list[dict[str, Any]]:
    text = decode_text(data)
    if text.lstrip()[:1] in ("[", "{"):
        try:
            parsed: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExchangeFileError(_("The file is not valid JSON: %s") % exc.msg) from None
        if isinstance(parsed, dict):
            parsed = parsed.get("value", parsed.get("results", [parsed]))
        if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
            raise ExchangeFileError(_("The file must hold a list of submissions."))
        return [_flatten(r) for r in parsed]
    sample = text[:8192]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    csv.field_size_limit(MAX_CELL_CHARS + 2)
    try:
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ExchangeFileError(_("The CSV file cannot be read: %s") % exc) from None


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict) and key != "__system":
            out.update(_flatten(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def read_submissions(data: bytes, form: str = "") -> list[Unit]:
    form_questions = questions(form)
    units = []
    for number, record in enumerate(_records(data), start=2):
        unit = Unit(
            document={"case": {}, "people": [], "consent": [], "comments": []}, first_row=number
        )
        row: dict[str, tuple[str, Any]] = {}
        for column, value in record.items():
            if column is None or _is_meta(column):
                continue
            name = (
                column.rsplit("/", 1)[-1].rsplit("-", 1)[-1]
                if column not in form_questions
                else column
            )
            question = form_questions.get(name)
            if question is None:
                if value not in (None, ""):
                    unit.problems.append(
                        Problem(
                            number,
                            column,
                            "",
                            _("%(column)s is not a question of the form.") % {"column": column},
                        )
                    )
                continue
            if value in (None, ""):
                continue
            if question.kind == "select all that apply" and isinstance(value, str):
                value = ";".join(value.split())
            row[question.field] = (column, value.strip() if isinstance(value, str) else value)
        _add_row(unit, number, row)
        unit.key = _instance_id(record)
        units.append(unit)
    assign_keys([u for u in units if not u.key])
    return units


def _is_meta(column: str) -> bool:
    return column in META or column.startswith("_") or column.startswith("meta")


def _instance_id(record: dict[str, Any]) -> str:
    for key in INSTANCE_KEYS:
        value = record.get(key)
        if value:
            return f"xlsform:{str(value)[:50]}"
    return ""


if __name__ == "__main__":
    print(f"wrote {write_packaged_questions()}")
