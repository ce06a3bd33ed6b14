"""Read an uploaded file into import units. Every refusal is an ExchangeFileError, raised before
anything is written."""

from __future__ import annotations

import csv
import gc
import io
import json
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from tessera.exchange.extension_columns import ExtensionColumn
from tessera.exchange.flat import table_to_units
from tessera.exchange.safety import (
    MAX_CELL_CHARS,
    ExchangeFileError,
    check_size,
    check_zip,
    decode_text,
)
from tessera.exchange.units import Problem, Unit, assign_keys

FORMATS = ("json", "csv", "xlsx", "xlsform", "ctdc")


def guess_format(name: str, data: bytes) -> str:
    """The format of a file from its content first, its name second."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        return "xlsx"
    if b"isForcedLabour" in head and b"gender" in head:
        return "ctdc"
    if any(mark in head for mark in (b"prs_First_Name", b"instanceID", b"_uuid", b'"__id"')):
        return "xlsform"
    if head[:1] in (b"{", b"["):
        return "json"
    return "csv"


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects that live on.

    Reading 200,000 rows allocates millions of dicts and tuples, and the allocations keep
    triggering collections that walk the objects built so far: reading a large file took 1.5 to 2
    times as long. Nothing built here forms reference cycles, so pausing frees nothing late.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_units(data: bytes, fmt: str, extensions: Sequence[ExtensionColumn] = ()) -> list[Unit]:
    """`extensions`: the organisation's extension fields, which flat files carry as columns."""
    check_size(data)
    with paused_gc():
        return _read_units(data, fmt, extensions)


def _read_units(data: bytes, fmt: str, extensions: Sequence[ExtensionColumn]) -> list[Unit]:
    if fmt == "json":
        return read_json(data)
    if fmt == "csv":
        header, rows = read_csv_table(data)
        return table_to_units(header, rows, extensions)
    if fmt == "xlsx":
        header, rows = read_xlsx_table(data)
        return table_to_units(header, rows, extensions)
    if fmt == "ctdc":
        from tessera.exchange.ctdc import read_ctdc

        return read_ctdc(data)
    if fmt == "xlsform":
        from tessera.exchange.xlsform import read_submissions

        return read_submissions(data)
    raise ExchangeFileError(_("Importing %(format)s files is not supported yet.") % {"format": fmt})


def read_csv_table(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    text = decode_text(data)
    sample = text[:8192]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    # A longer cell fails csv itself, so a 10 MB cell is refused while reading, not after.
    csv.field_size_limit(MAX_CELL_CHARS + 2)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for values in reader:
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ExchangeFileError(
            _(
                "The CSV file cannot be read near line %(line)s: %(detail)s. No cell may hold more "
                "than %(max)s characters."
            )
            % {"line": reader.line_num, "detail": exc, "max": MAX_CELL_CHARS}
        ) from None
    if not rows:
        raise ExchangeFileError(_("The file has no header row."))
    header = [str(v) for v in rows[0][1]]
    return header, iter([(i, values) for i, (_line, values) in enumerate(rows[1:], start=2)])


def read_xlsx_table(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    import openpyxl

    check_zip(data)
    try:
        with warnings.catch_warnings():
            # The templates carry Excel's data-validation extension, which openpyxl drops.
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_links=False
            )
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise ExchangeFileError(
            _("This is not a readable Excel file: %(detail)s") % {"detail": exc}
        ) from None
    sheet = workbook.worksheets[0]
    rows = []
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, list(values)))
    except Exception as exc:
        raise ExchangeFileError(
            _("The Excel file is damaged: %(detail)s") % {"detail": exc}
        ) from None
    finally:
        workbook.close()
    if not rows:
        raise ExchangeFileError(_("The first sheet is empty."))
    header = ["" if v is None else str(v) for v in rows[0][1]]
    return header, iter(rows[1:])


def read_json(data: bytes) -> list[Unit]:
    """A list of HTCDS case documents, one document, `{"cases": [...]}`, or JSON Lines."""
    text = decode_text(data)
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        try:
            parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise ExchangeFileError(
                _("The file is not valid JSON (line %(line)s, column %(col)s: %(msg)s).")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ) from None
    if isinstance(parsed, dict) and isinstance(parsed.get("cases"), list):
        parsed = parsed["cases"]
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        raise ExchangeFileError(_("The file must hold HTCDS case documents."))
    units = []
    for number, document in enumerate(parsed, start=1):
        unit = Unit(document={}, first_row=number)
        if not isinstance(document, dict):
            unit.problems.append(Problem(number, "", "", _("Each case must be a JSON object.")))
        else:
            unit.document = _without_ids(document)
            case = unit.document.get("case")
            if isinstance(case, dict):
                status = case.get("cas_Status")
                if status not in (None, "", "Active", "FollowUp"):
                    unit.status = str(status)
                    case.pop("cas_Status")
                unit.owner_email = str(case.pop("cas_CaseOwner", None) or "")
        units.append(unit)
    assign_keys([u for u in units if u.document])
    return units


_IDS = ("id", "person_id", "reference", "recorded_at", "closed_on", "closure_requested")


def _without_ids(document: dict[str, Any]) -> dict[str, Any]:
    """Identifiers of the exporting server name nothing here; they are dropped, not imported."""
    out = dict(document)
    for key, value in document.items():
        if isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in _IDS}
        elif isinstance(value, list):
            out[key] = [
                {k: v for k, v in e.items() if k not in _IDS} if isinstance(e, dict) else e
                for e in value
            ]
    return out
