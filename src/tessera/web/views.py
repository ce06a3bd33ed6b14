"""The web shell: dashboard, organisation switcher, audit trail, members, API tokens, health."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from tessera.accounts.models import ApiToken, User
from tessera.accounts.services import set_preferred_language
from tessera.accounts.tokens import create_token, revoke_token
from tessera.audit.models import AuditEvent
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.middleware import SESSION_ORG_KEY
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm
from tessera.tenancy.services import switch_org
from tessera.tenancy.views import public, requires_login, requires_perm


@public
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The footer switcher: Django's cookie-setting view, and the choice saved on the user."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if isinstance(request.user, User) and language in dict(settings.LANGUAGES):
        set_preferred_language(user=request.user, language=language)
    return response


@requires_login
def home(request: HttpRequest) -> HttpResponse:
    if getattr(request, "membership", None) is None:
        return render(request, "web/no_membership.html", status=403)
    return redirect("web:dashboard")


@requires_perm(Perm.VIEW_DASHBOARD)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/dashboard.html")


@requires_login
@require_POST
def switch_organisation(request: OrgRequest) -> HttpResponse:
    try:
        org_id = int(request.POST.get("org", ""))
        membership = switch_org(user=request.user, org_id=org_id)
    except (ValueError, ValidationError):
        messages.error(request, _("You are not a member of that organisation."))
        return redirect("web:home")
    request.session[SESSION_ORG_KEY] = membership.org_id
    messages.success(request, _("You are now working in %(org)s.") % {"org": membership.org.name})
    return redirect("web:dashboard")


@requires_perm(Perm.VIEW_AUDIT)
def audit_trail(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.order_by("-seq")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "web/audit_trail.html", {"page": page})


@requires_perm(Perm.VIEW_AUDIT)
def audit_event(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(AuditEvent.objects.all(), pk=pk)
    return render(request, "web/audit_event.html", {"event": event})


@requires_perm(Perm.MANAGE_MEMBERS)
def members(request: OrgRequest) -> HttpResponse:
    rows = Membership.objects.select_related("user").filter(org=request.org).order_by("user__email")
    return render(request, "web/members.html", {"members": rows})


@requires_perm(Perm.VIEW_DASHBOARD)
def tokens(request: OrgRequest) -> HttpResponse:
    new_secret = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100]
        _token, new_secret = create_token(user=request.user, org=request.org, name=name)
    rows = ApiToken.objects.filter(user=request.user, org=request.org)
    return render(request, "web/tokens.html", {"tokens": rows, "new_secret": new_secret})


@requires_perm(Perm.VIEW_DASHBOARD)
@require_POST
def revoke_api_token(request: OrgRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(
        ApiToken,
        pk=pk,
        user=request.user,
        org=request.org,
        revoked_at__isnull=True,
    )
    revoke_token(token=token)
    messages.success(request, _("Token revoked."))
    return redirect("web:tokens")
