"""Write exported case documents as HTCDS JSON, flat CSV or Excel (IOM's template layout)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from tessera.exchange.columns import full_header, label_of
from tessera.exchange.extension_columns import ExtensionColumn
from tessera.exchange.flat import document_rows, rows_to_table
from tessera.exchange.safety import neutralise


def _safe(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def write_json(documents: Iterable[dict[str, Any]]) -> bytes:
    return json.dumps(list(documents), ensure_ascii=False, indent=2, sort_keys=False).encode()


def _rows(
    documents: Iterable[dict[str, Any]], extensions: Sequence[ExtensionColumn]
) -> Iterable[list[Any]]:
    rows = (row for document in documents for row in document_rows(document, extensions))
    return rows_to_table(rows, extensions)


def write_csv(
    documents: Iterable[dict[str, Any]], extensions: Sequence[ExtensionColumn] = ()
) -> bytes:
    """One row per person; the organisation's extension fields in columns after HTCDS's."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(full_header() + [extension.column for extension in extensions])
    for row in _rows(documents, extensions):
        writer.writerow([_safe(v) for v in row])
    # A BOM so that Excel opens the file as UTF-8.
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def write_xlsx(
    documents: Iterable[dict[str, Any]], extensions: Sequence[ExtensionColumn] = ()
) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Case Sheet")
    header = full_header()
    sheet.append(header + [extension.column for extension in extensions])
    sheet.append([label_of(h) if h else None for h in header] + [e.label for e in extensions])
    for row in _rows(documents, extensions):
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value == "":
        return None
    return _safe(value)
