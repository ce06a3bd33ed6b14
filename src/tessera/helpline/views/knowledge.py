"""The knowledge base: search (also as an HTMX panel beside the contact form), read, edit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.cases.services.common import CaseRuleError
from tessera.helpline import selectors, services
from tessera.helpline.markdown import render_markdown
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm


@requires_perm(Perm.HANDLE_CONTACTS)
def knowledge(request: OrgRequest) -> HttpResponse:
    actor = request.membership
    query = request.GET.get("q", "").strip()[:200]
    language = request.GET.get("language", "").strip()[:8]
    if query:
        found = selectors.search_knowledge(actor=actor, query=query, language=language)
    else:
        found = list(selectors.articles(actor=actor, language=language)[:100])
    context = {
        "articles": found,
        "q": query,
        "language": language,
        "can_edit": actor.has_perm(Perm.APPROVE_CLOSURE),
    }
    template = "helpline/_kb_results.html" if request.htmx else "helpline/knowledge.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@requires_perm(Perm.HANDLE_CONTACTS)
def article(request: OrgRequest, article_id: int) -> HttpResponse:
    found = selectors.get_article(actor=request.membership, article_id=article_id)
    context = {
        "article": found,
        "html": render_markdown(found.body),
        "can_edit": request.membership.has_perm(Perm.APPROVE_CLOSURE),
    }
    return render(request, "helpline/article.html", context)


@requires_perm(Perm.APPROVE_CLOSURE)
@require_http_methods(["GET", "POST"])
def article_edit(request: OrgRequest, article_id: int | None = None) -> HttpResponse:
    actor = request.membership
    existing = selectors.get_article(actor=actor, article_id=article_id) if article_id else None
    values = {
        "title": existing.title if existing else "",
        "body": existing.body if existing else "",
        "language": existing.language if existing else "en",
        "tags": existing.tags if existing else "",
        "is_published": existing.is_published if existing else True,
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        values = {
            "title": post.get("title", ""),
            "body": post.get("body", ""),
            "language": post.get("language", "en").strip(),
            "tags": post.get("tags", ""),
            "is_published": post.get("is_published") == "on",
        }
        try:
            saved = services.save_article(
                actor=actor,
                article=existing,
                title=str(values["title"]),
                body=str(values["body"]),
                language=str(values["language"]),
                tags=str(values["tags"]),
                is_published=bool(values["is_published"]),
            )
        except CaseRuleError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Article saved."))
            return redirect("helpline:article", article_id=saved.pk)
    context = {"values": values, "errors": errors, "article": existing}
    return render(request, "helpline/article_edit.html", context, status=400 if errors else 200)
