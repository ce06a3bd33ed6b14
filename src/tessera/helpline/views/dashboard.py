"""The helpline dashboard (charts drawn by the locally served Chart.js) and its CSV export."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tessera.helpline.models import CallerType, Channel, Outcome
from tessera.helpline.stats import HelplineStats, clamp_range, csv_rows, helpline_stats
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


def _stats(request: HttpRequest) -> HelplineStats:
    start, end = clamp_range(_date(request.GET.get("start")), _date(request.GET.get("end")))
    return helpline_stats(start=start, end=end)


def _labelled(series: dict[str, list[int]], labels: dict[str, Any]) -> list[dict[str, object]]:
    return [{"label": str(labels.get(k, k)), "data": v} for k, v in series.items()]


@requires_perm(Perm.VIEW_AGGREGATES)
def dashboard(request: OrgRequest) -> HttpResponse:
    stats = _stats(request)
    channel_labels = dict(Channel.choices)
    caller_labels = dict(CallerType.choices)
    outcome_labels = dict(Outcome.choices)
    chart = {
        "days": [d.isoformat() for d in stats.days],
        "channel": _labelled(stats.by_channel, channel_labels),
        "caller_type": _labelled(stats.by_caller_type, caller_labels),
        "outcomes": {
            "labels": [str(outcome_labels[o]) for o in stats.outcomes],
            "data": list(stats.outcomes.values()),
        },
        "titles": {
            "channel": _("Contacts per day by channel"),
            "caller_type": _("Contacts per day by caller type"),
            "outcomes": _("Outcomes"),
        },
    }
    channel_totals = [(channel_labels[k], sum(v)) for k, v in stats.by_channel.items()]
    caller_totals = [(caller_labels[k], sum(v)) for k, v in stats.by_caller_type.items()]
    context = {
        "stats": stats,
        "chart": chart,
        "channel_totals": channel_totals,
        "caller_totals": caller_totals,
        "outcome_totals": [(outcome_labels[k], v) for k, v in stats.outcomes.items()],
        "conversion_percent": round(stats.conversion_share * 100, 1),
    }
    return render(request, "helpline/dashboard.html", context)


@requires_perm(Perm.VIEW_AGGREGATES)
def dashboard_csv(request: OrgRequest) -> HttpResponse:
    stats = _stats(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"helpline-{stats.start.isoformat()}-{stats.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(csv_rows(stats))
    return response
