"""Aggregate figures for the helpline dashboard and its CSV export (counts only, no identities)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from tessera.helpline.models import CallerType, Channel, Contact, Outcome, Task, TaskStatus

MAX_RANGE_DAYS = 366
# Response times are summarised from at most this many answered contacts (the most recent).
RESPONSE_SAMPLE = 50_000


@dataclass
class HelplineStats:
    start: date
    end: date
    days: list[date] = field(default_factory=list)
    by_channel: dict[str, list[int]] = field(default_factory=dict)
    by_caller_type: dict[str, list[int]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    total: int = 0
    about_exploitation: int = 0
    converted_to_cases: int = 0
    answered: int = 0
    median_response_s: float | None = None
    p90_response_s: float | None = None
    open_tasks: int = 0
    overdue_tasks: int = 0

    @property
    def conversion_share(self) -> float:
        return self.converted_to_cases / self.total if self.total else 0.0


def clamp_range(start: date | None, end: date | None) -> tuple[date, date]:
    today = timezone.localdate()
    end = min(end or today, today)
    start = start or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_RANGE_DAYS - 1))
    return start, end


def _daily(rows: Any, key: str, labels: list[str], days: list[date]) -> dict[str, list[int]]:
    position = {day: i for i, day in enumerate(days)}
    series = {label: [0] * len(days) for label in labels}
    for row in rows:
        day = row["day"]
        if isinstance(day, datetime):
            day = day.date()
        if row[key] in series and day in position:
            series[row[key]][position[day]] = row["n"]
    return {label: counts for label, counts in series.items() if any(counts)}


def helpline_stats(*, start: date, end: date) -> HelplineStats:
    """Figures of the current organisation for contacts started between `start` and `end`."""
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    contacts = Contact.objects.filter(started_at__gte=since, started_at__lt=until)
    result = HelplineStats(start=start, end=end)
    result.days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    per_day = contacts.annotate(day=TruncDate("started_at", tzinfo=tz))
    result.by_channel = _daily(
        per_day.values("day", "channel").annotate(n=Count("id")),
        "channel",
        Channel.values,
        result.days,
    )
    result.by_caller_type = _daily(
        per_day.values("day", "caller_type").annotate(n=Count("id")),
        "caller_type",
        CallerType.values,
        result.days,
    )
    totals = contacts.aggregate(
        total=Count("id"),
        exploitation=Count("id", filter=Q(is_exploitation=True)),
        converted=Count("id", filter=Q(case__isnull=False)),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
    )
    result.total = totals["total"]
    result.about_exploitation = totals["exploitation"]
    result.converted_to_cases = totals["converted"]
    result.answered = totals["answered"]
    outcomes = dict(
        contacts.exclude(outcome="").values_list("outcome").annotate(n=Count("id")).order_by()
    )
    result.outcomes = {o: outcomes[o] for o in Outcome.values if o in outcomes}
    waits = sorted(
        (answered - started).total_seconds()
        for started, answered in contacts.filter(answered_at__isnull=False)
        .order_by("-started_at")
        .values_list("started_at", "answered_at")[:RESPONSE_SAMPLE]
    )
    if waits:
        result.median_response_s = statistics.median(waits)
        result.p90_response_s = waits[min(len(waits) - 1, int(len(waits) * 0.9))]
    tasks = Task.objects.filter(status=TaskStatus.OPEN)
    result.open_tasks = tasks.count()
    result.overdue_tasks = tasks.filter(due_at__lt=timezone.now()).count()
    return result


def csv_rows(stats: HelplineStats) -> list[list[str]]:
    """The figures as (metric, day, category, value) rows."""
    rows = [["metric", "day", "category", "value"]]
    for metric, series in (
        ("contacts_by_channel", stats.by_channel),
        ("contacts_by_caller_type", stats.by_caller_type),
    ):
        for category, counts in series.items():
            rows += [
                [metric, d.isoformat(), category, str(n)]
                for d, n in zip(stats.days, counts, strict=True)
                if n
            ]
    period = f"{stats.start.isoformat()}/{stats.end.isoformat()}"
    rows += [["outcome", period, outcome, str(n)] for outcome, n in stats.outcomes.items()]
    summary = {
        "contacts_total": stats.total,
        "contacts_about_exploitation": stats.about_exploitation,
        "contacts_converted_to_cases": stats.converted_to_cases,
        "conversion_share": round(stats.conversion_share, 4),
        "median_response_seconds": stats.median_response_s,
        "p90_response_seconds": stats.p90_response_s,
        "open_tasks": stats.open_tasks,
        "overdue_tasks": stats.overdue_tasks,
    }
    rows += [[name, period, "", "" if v is None else str(v)] for name, v in summary.items()]
    return rows
