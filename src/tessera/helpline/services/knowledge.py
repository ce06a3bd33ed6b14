"""Writing knowledge-base articles (and keeping the full-text index in step)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tessera.cases.services.common import CaseRuleError, acting, audit, require
from tessera.helpline import fulltext
from tessera.helpline.models import KnowledgeArticle
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

MAX_BODY = 100_000


def save_article(
    *,
    actor: Membership,
    title: str,
    body: str,
    language: str = "en",
    tags: str = "",
    is_published: bool = True,
    article: KnowledgeArticle | None = None,
) -> KnowledgeArticle:
    """Create or update an article. Supervisors and administrators curate the knowledge base."""
    require(actor, Perm.APPROVE_CLOSURE)
    error = CaseRuleError()
    if not title.strip() or len(title) > 200:
        error.add("title", _("Enter a title of 1 to 200 characters."))
    if not body.strip() or len(body) > MAX_BODY:
        error.add("body", _("Enter the text (at most %(limit)d characters).") % {"limit": MAX_BODY})
    if not language or len(language) > 8:
        error.add("language", _("Enter a language code such as en."))
    if error.errors:
        raise error
    with acting(actor):
        is_new = article is None
        article = article or KnowledgeArticle()
        article.title = title.strip()
        article.body = body
        article.language = language
        article.tags = ", ".join(t.strip() for t in tags.split(",") if t.strip())[:300]
        article.is_published = is_published
        article.search_text = f"{article.title}\n{article.tags}\n{article.body}"
        article.updated_by = actor.user
        article.save()
        fulltext.index_article(article)
        audit("kb.create" if is_new else "kb.update", article, ["title", "body", "tags"])
    return article
