"""The validation report as CSV (row, column, HTCDS field, level, message)."""

from __future__ import annotations

import csv
import io

from tessera.exchange.models import ImportJob
from tessera.exchange.safety import neutralise


def report_csv(job: ImportJob) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "column", "field", "level", "message"])
    for p in job.report:
        writer.writerow(
            [
                p["row"],
                neutralise(p["column"]),
                neutralise(p["field"]),
                p["level"],
                neutralise(p["message"]),
            ]
        )
    return b"\xef\xbb\xbf" + out.getvalue().encode()
