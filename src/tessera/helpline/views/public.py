"""The public report form: no login, no JavaScript, no cookies needed, in the visitor's language.

Django's CSRF protection relies on a cookie; a visitor who blocks cookies (common on shared or
monitored phones) could never report. The form is on our own site, so it is protected the way
browsers allow without cookies: a cross-site request is refused by its Origin and Sec-Fetch-Site
headers, and the form carries a signed, expiring token naming the receiving organisation (proof
that this server rendered it recently). There is no login here to protect: a report is always
attributed to the public. Abuse is held back by per-client and per-organisation rate limits, a
honeypot field and size limits.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tessera.cases.services.common import CaseRuleError
from tessera.helpline import ratelimit, services
from tessera.helpline.models import CallerType, SafetyFlag
from tessera.tenancy.middleware import client_ip
from tessera.tenancy.models import Organisation
from tessera.tenancy.views import public

FORM_SALT = "tessera.helpline.report-form"
FORM_MAX_AGE_S = 6 * 60 * 60
MAX_FORM_BYTES = 24_576
HONEYPOT = "website"
TEXT_FIELDS = (
    "summary",
    "location",
    "occurred",
    "caller_name",
    "caller_phone",
    "caller_email",
    "safe_contact",
)
PUBLIC_CALLER_TYPES = [
    (CallerType.POTENTIAL_VICTIM, gettext_lazy("I am, or may be, the person being exploited")),
    (CallerType.PUBLIC, gettext_lazy("I am worried about someone else")),
    (CallerType.BUSINESS, gettext_lazy("I am reporting for a business")),
    (CallerType.STATUTORY, gettext_lazy("I work for a public agency")),
    (CallerType.NGO, gettext_lazy("I work for a support organisation")),
]
PUBLIC_FLAGS = (
    SafetyFlag.DO_NOT_CALL_BACK,
    SafetyFlag.TEXT_ONLY,
    SafetyFlag.NO_VOICEMAIL,
    SafetyFlag.PERPETRATOR_MAY_ANSWER,
)


def _org(slug: str | None) -> Organisation:
    slug = slug or settings.TESSERA_REPORT_DEFAULT_ORG
    org = Organisation.objects.filter(slug=slug, is_active=True).first() if slug else None
    if org is None:
        raise Http404
    return org


def _language(request: HttpRequest) -> str:
    # From the query string only: the body is not read before its size is checked.
    wanted = request.GET.get("lang") or ""
    codes = {code for code, _name in settings.LANGUAGES}
    return wanted if wanted in codes else translation.get_language() or settings.LANGUAGE_CODE


def _page(
    request: HttpRequest, org: Organisation, *, status: int = 200, **context: object
) -> HttpResponse:
    context.update(
        {
            "org": org,
            "form_token": signing.TimestampSigner(salt=FORM_SALT).sign(org.slug),
            "caller_types": PUBLIC_CALLER_TYPES,
            "flags": [(flag.value, flag.label) for flag in PUBLIC_FLAGS],
            "languages": settings.LANGUAGES,
            "lang": translation.get_language(),
        }
    )
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render(request, "helpline/report_form.html", context, status=status)


@public
@csrf_exempt
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, org_slug: str | None = None) -> HttpResponse:
    with translation.override(_language(request)):
        org = _org(org_slug)
        if request.method == "GET":
            return _page(request, org)
        return _submit(request, org)


def _is_cross_site(request: HttpRequest) -> bool:
    if request.headers.get("Sec-Fetch-Site", "") in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("Origin")
    # "null": the page's no-referrer policy makes browsers hide the origin of its own form posts;
    # they still send Sec-Fetch-Site, checked above.
    if origin in (None, "null"):
        return False
    return origin != f"{request.scheme}://{request.get_host()}"


def _submit(request: HttpRequest, org: Organisation) -> HttpResponse:
    if _is_cross_site(request):
        return _page(request, org, status=403, form_error=_("Please send the form from this page."))
    ip = client_ip(request)
    if not ratelimit.allow_client(ip=ip) or not ratelimit.allow_org(org_slug=org.slug):
        return render(request, "helpline/report_limited.html", {"org": org}, status=429)
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_FORM_BYTES:
        return _page(
            request,
            org,
            status=413,
            form_error=_("Your report is too long. Please shorten it and send it again."),
        )
    try:
        slug = signing.TimestampSigner(salt=FORM_SALT).unsign(
            request.POST.get("form_token", ""), max_age=FORM_MAX_AGE_S
        )
    except signing.BadSignature:
        slug = None
    values: dict[str, Any] = {name: request.POST.get(name, "") for name in TEXT_FIELDS}
    values["caller_type"] = request.POST.get("caller_type", "")
    values["is_anonymous"] = request.POST.get("is_anonymous") == "on"
    values["safety_flags"] = [f for f in request.POST.getlist("safety_flags") if f]
    if slug != org.slug:
        # Missing, forged or expired: refused like a failed CSRF check, with the text kept.
        return _page(
            request,
            org,
            status=403,
            values=values,
            form_error=_("This form has expired. Please check your report and send it again."),
        )
    if request.POST.get(HONEYPOT):
        # Filled in by a robot: answer as if accepted, store nothing.
        return render(request, "helpline/report_thanks.html", {"org": org})
    errors: dict[str, list[str]] = {}
    if not values["summary"].strip():
        errors["summary"] = [_("Please tell us what happened.")]
    if values["caller_type"] not in CallerType.values:
        values["caller_type"] = CallerType.OTHER
    if not errors:
        try:
            services.submit_public_report(
                org=org, data={**values, "language": translation.get_language() or ""}, ip=ip
            )
        except CaseRuleError as exc:
            errors = exc.errors
    if errors:
        return _page(
            request,
            org,
            status=400,
            values=values,
            errors=errors,
            form_error=_("Please correct the marked fields."),
        )
    return render(request, "helpline/report_thanks.html", {"org": org})
