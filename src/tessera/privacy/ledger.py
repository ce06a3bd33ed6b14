"""A privacy-budget ledger per dataset, kept in a JSON file.

A spend is written (and flushed to disk with an atomic rename) before the noisy answer is
handed back, so a crash can lose an answer but never an expense.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tessera.privacy.errors import BudgetExceededError, PrivacyError

_SLACK = 1e-12


@dataclass
class BudgetLedger:
    """Total ε for one dataset and every spend against it (sequential composition, pure ε-DP).

    Args:
        dataset: a name for the dataset the budget protects.
        epsilon_total: the whole budget.
        path: where the ledger lives; ``None`` keeps it in memory (tests).
    """

    dataset: str
    epsilon_total: float
    path: Path | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.epsilon_total > 0:
            raise PrivacyError(f"the budget must be positive, got ε={self.epsilon_total}")

    @property
    def spent(self) -> float:
        """ε spent so far."""
        return float(sum(e["epsilon"] for e in self.entries))

    @property
    def remaining(self) -> float:
        """ε still available."""
        return self.epsilon_total - self.spent

    def charge(self, epsilon: float, query: str) -> None:
        """Record a spend, or refuse it when it would exceed the budget.

        Raises:
            PrivacyError: if ε is not positive.
            BudgetExceededError: if ε is more than what remains.
        """
        if not epsilon > 0:
            raise PrivacyError(f"ε must be positive, got {epsilon}")
        if epsilon > self.remaining + _SLACK:
            raise BudgetExceededError(
                f"query {query!r} needs ε={epsilon:g} but only ε={self.remaining:g} of "
                f"{self.epsilon_total:g} remains for dataset {self.dataset!r}"
            )
        self.entries.append(
            {"query": query, "epsilon": epsilon, "at": datetime.now(UTC).isoformat()}
        )
        self.save()

    def save(self) -> None:
        """Write the ledger atomically (no-op for an in-memory ledger)."""
        if self.path is None:
            return
        payload = {
            "dataset": self.dataset,
            "epsilon_total": self.epsilon_total,
            "entries": self.entries,
        }
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, self.path)

    @classmethod
    def open(
        cls, path: Path, dataset: str = "", epsilon_total: float | None = None
    ) -> BudgetLedger:
        """Load a ledger, or create it when the file does not exist and a total is given."""
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                ledger = cls(data["dataset"], float(data["epsilon_total"]), path, data["entries"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise PrivacyError(f"ledger {path} is malformed: {exc}") from None
            if epsilon_total is not None and epsilon_total != ledger.epsilon_total:
                raise PrivacyError(
                    f"ledger {path} has a total of ε={ledger.epsilon_total:g}; it cannot be changed"
                )
            return ledger
        if epsilon_total is None:
            raise PrivacyError(f"ledger {path} does not exist; give a total budget to create it")
        ledger = cls(dataset or path.stem, epsilon_total, path)
        ledger.save()
        return ledger
