"""What every reader produces: import units (one case document each) and report entries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One line of the validation report: where in the file, which HTCDS field, what is wrong."""

    row: int
    column: str
    field: str
    message: str
    level: str = "error"  # or "warning"

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "level": self.level,
        }


@dataclass
class Unit:
    """One case to import, as an HTCDS case document, with where each of its values came from.

    `key` identifies the unit by its content, so importing the same record twice (a re-run after a
    crash, or the same file uploaded again) finds the first import instead of duplicating it.
    """

    document: dict[str, Any]
    first_row: int
    cells: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Values applied after the case exists: a closed status, and the owner (a member's e-mail).
    status: str = ""
    owner_email: str = ""
    problems: list[Problem] = field(default_factory=list)
    key: str = ""

    def locate(self, path: str) -> tuple[int, str]:
        """(row, column) of a document path such as `people[1].prs_Gender`."""
        while path:
            if path in self.cells:
                return self.cells[path]
            path = path.rpartition(".")[0]
        return self.first_row, ""

    def problem(self, path: str, message: str, level: str = "error") -> Problem:
        row, column = self.locate(path)
        return Problem(row, column, path.rpartition(".")[2] or path, message, level)


def assign_keys(units: list[Unit], *, salt: str = "") -> None:
    """Content keys: the digest of the unit's document, numbered among identical units."""
    seen: dict[str, int] = {}
    for unit in units:
        canonical = json.dumps(
            [unit.document, unit.status, unit.owner_email], sort_keys=True, default=str
        )
        digest = hashlib.sha256(f"{salt}\x1f{canonical}".encode()).hexdigest()[:40]
        seen[digest] = seen.get(digest, 0) + 1
        unit.key = f"{digest}#{seen[digest]}"
