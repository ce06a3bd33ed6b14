"""Prepare, approve, reject and download releases. Each action is audited in its own transaction;
ε is charged to the organisation's budget in the same transaction that stores the release."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tessera.audit.services import record
from tessera.privacy import KAnonSpec, PrivacyError, k_anonymise
from tessera.privacy.dpstats import SmallCountRule, dp_crosstab
from tessera.privacy.errors import BudgetExceededError
from tessera.privacy.hierarchies import CountryHierarchy, age_hierarchy
from tessera.privacy.ledger import BudgetLedger
from tessera.privacy.synth import synthesise
from tessera.releases.dataset import COLUMNS, public_keys, statistics_table, with_unknowns
from tessera.releases.models import PrivacyBudget, Release, ReleaseKind, ReleaseStatus
from tessera.tenancy.acting import acting, require
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

DEFAULT_QUASI_IDENTIFIERS = ("gender", "age", "citizenship", "exploitation_country", "year")
DP_COLUMNS = (
    "gender",
    "age_band",
    "citizenship",
    "exploitation",
    "exploitation_country",
    "year",
    "status",
)
SYNTH_COLUMNS = (
    "gender",
    "age_band",
    "citizenship",
    "exploitation",
    "exploitation_country",
    "year",
    "status",
)
# The synthesiser fits the full joint table over public categories: two country columns (about
# 250 categories each) together would not fit, so the default leaves them out.
SYNTH_DEFAULT = ("gender", "age_band", "exploitation", "year")
SMALL_COUNT_THRESHOLD = 5


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def _columns(
    value: Sequence[str] | None, allowed: Sequence[str], default: Sequence[str]
) -> list[str]:
    columns = list(value or default)
    unknown = [c for c in columns if c not in allowed]
    if unknown or not columns:
        raise ValidationError(
            {
                "columns": f"Choose from {', '.join(allowed)}; unknown: {', '.join(unknown) or 'none given'}."
            }
        )
    return columns


def _k_anonymous(
    table: pd.DataFrame, parameters: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    k = parameters.get("k", 11)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ValidationError({"k": "k must be a whole number of at least 2."})
    quasi = _columns(
        parameters.get("quasi_identifiers"), DEFAULT_QUASI_IDENTIFIERS, DEFAULT_QUASI_IDENTIFIERS
    )
    hierarchies = {
        "age": age_hierarchy(),
        "citizenship": CountryHierarchy(),
        "exploitation_country": CountryHierarchy(),
    }
    spec = KAnonSpec(
        quasi_identifiers={column: hierarchies.get(column) for column in quasi},
        k=k,
        sensitive=("exploitation",),
        max_suppression=float(parameters.get("max_suppression", 0.05)),
    )
    result = k_anonymise(table.drop(columns=["age_band"]), spec)
    return result.data, {"levels": result.levels, **result.report}


def _dp_statistics(
    table: pd.DataFrame, parameters: dict[str, Any], ledger: BudgetLedger, epsilon: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    columns = _columns(parameters.get("columns"), DP_COLUMNS, ("exploitation", "year"))
    keys = public_keys()
    counts = dp_crosstab(
        with_unknowns(table),
        columns,
        {c: keys[c] for c in columns},
        epsilon=epsilon,
        ledger=ledger,
        rule=SmallCountRule(threshold=SMALL_COUNT_THRESHOLD),
    )
    frame = counts.reset_index()
    frame = frame[frame["count"].notna() & (frame["count"] > 0)]
    return frame, {"columns": columns, "small_counts_withheld_below": SMALL_COUNT_THRESHOLD}


def _synthetic(
    table: pd.DataFrame, parameters: dict[str, Any], ledger: BudgetLedger, epsilon: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    columns = _columns(parameters.get("columns"), SYNTH_COLUMNS, SYNTH_DEFAULT)
    keys = public_keys()
    ledger.charge(epsilon, f"synthesise({', '.join(columns)})")
    result = synthesise(
        with_unknowns(table)[columns],
        epsilon=epsilon,
        keys={column: keys[column] for column in columns},
        multi_valued={"exploitation"} & set(columns),
    )
    return result.data, {"columns": columns, "rho": result.rho, "sigma": result.sigma}


def prepare_release(
    *, actor: Membership, kind: str, parameters: dict[str, Any] | None = None
) -> Release:
    """Build a release from the organisation's consenting victims; it waits for approval."""
    require(actor, Perm.VIEW_AGGREGATES)
    parameters = dict(parameters or {})
    if kind not in ReleaseKind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(ReleaseKind.values)}."})
    epsilon: float | None = None
    if kind != ReleaseKind.K_ANONYMOUS:
        raw = parameters.get("epsilon")
        if not isinstance(raw, int | float) or isinstance(raw, bool) or not raw > 0:
            raise ValidationError({"epsilon": "ε must be a number greater than 0."})
        epsilon = float(raw)
    with acting(actor):
        table = statistics_table()
        if table.empty:
            raise ValidationError(
                "No victim in this organisation's cases has consented to statistics yet."
            )
        budget, _ = PrivacyBudget.objects.select_for_update().get_or_create(dataset="cases")
        ledger = BudgetLedger("cases", budget.epsilon_total)
        if budget.epsilon_spent:
            ledger.entries.append({"query": "earlier releases", "epsilon": budget.epsilon_spent})
        try:
            if kind == ReleaseKind.K_ANONYMOUS:
                output, report = _k_anonymous(table, parameters)
            elif kind == ReleaseKind.DP_STATISTICS:
                output, report = _dp_statistics(table, parameters, ledger, epsilon or 0)
            else:
                output, report = _synthetic(table, parameters, ledger, epsilon or 0)
        except BudgetExceededError as exc:
            raise ValidationError({"epsilon": str(exc)}) from exc
        except PrivacyError as exc:
            raise ValidationError(str(exc)) from exc
        if epsilon is not None:
            budget.epsilon_spent = ledger.spent
            budget.save(update_fields=["epsilon_spent"])
        release: Release = Release.objects.create(
            kind=kind,
            parameters=parameters,
            epsilon=epsilon,
            row_count=len(output),
            source_rows=len(table),
            report=_json_safe(report),
            output_csv=_csv(output),
            prepared_by=actor.user,
        )
        record(
            action="release.prepare",
            object_type="Release",
            object_id=release.pk,
            fields=sorted(COLUMNS),
            reason=f"{kind}; ε={epsilon if epsilon is not None else 'n/a'}",
        )
    return release


def _decide(*, actor: Membership, release: Release, status: str, note: str) -> Release:
    require(actor, Perm.APPROVE_RELEASE)
    if release.prepared_by_id == actor.user_id:
        raise PermissionDenied(
            "A release must be approved or rejected by someone other than its author."
        )
    with acting(actor):
        locked: Release = Release.objects.select_for_update().get(pk=release.pk)
        if locked.status != ReleaseStatus.PENDING:
            raise ValidationError(
                f"This release was already {locked.get_status_display().lower()}."
            )
        locked.status = status
        locked.decided_by = actor.user
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(action=f"release.{status}", object_type="Release", object_id=locked.pk, reason=note)
    return locked


def approve_release(*, actor: Membership, release: Release, note: str = "") -> Release:
    return _decide(actor=actor, release=release, status=ReleaseStatus.APPROVED, note=note)


def reject_release(*, actor: Membership, release: Release, note: str = "") -> Release:
    return _decide(actor=actor, release=release, status=ReleaseStatus.REJECTED, note=note)


def download_release(*, actor: Membership, release: Release) -> str:
    """The released CSV; only once approved, and every download is audited."""
    require(actor, Perm.VIEW_AGGREGATES)
    if release.status != ReleaseStatus.APPROVED:
        raise PermissionDenied("This release has not been approved yet.")
    with acting(actor):
        record(action="release.download", object_type="Release", object_id=release.pk)
    return release.output_csv


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
