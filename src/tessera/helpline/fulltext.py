"""Full-text search over the knowledge base: PostgreSQL tsvector (GIN index) or SQLite FTS5.

The FTS5 table is a virtual table outside the ORM and so outside the organisation wall; it carries
org_id, every query filters on it, and the matching ids are then read back through the org-scoped
manager, so a search can only ever return the current organisation's articles.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, QuerySet, Value, When

from tessera.helpline.models import KnowledgeArticle
from tessera.tenancy.context import require_org

FTS_TABLE = "helpline_kb_fts"
# One configuration for every language: 'simple' does not stem, so it never stems wrongly.
PG_CONFIG = "simple"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


def terms(query: str) -> list[str]:
    return _WORD.findall(query.casefold())[:MAX_TERMS]


def index_article(article: KnowledgeArticle) -> None:
    """Keep the SQLite FTS5 row of `article` in step (PostgreSQL indexes the column itself)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [article.pk])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, org_id, search_text) VALUES (%s, %s, %s)",  # noqa: S608
            [article.pk, article.org_id, article.search_text],
        )


def search_articles(query: str) -> QuerySet[KnowledgeArticle]:
    """Published articles of the current organisation matching every word of `query` (prefixes
    on SQLite), best first."""
    words = terms(query)
    articles = KnowledgeArticle.objects.filter(is_published=True)
    if not words:
        return articles.none()
    if connection.vendor == "postgresql":
        vector = SearchVector("search_text", config=PG_CONFIG)
        search = SearchQuery(" ".join(words), config=PG_CONFIG, search_type="plain")
        ranked: QuerySet[KnowledgeArticle] = (
            articles.annotate(document=vector, rank=SearchRank(vector, search))
            .filter(document=search)
            .order_by(F("rank").desc(), "title")
        )
        return ranked
    match = " ".join(f'"{w}"*' for w in words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND org_id = %s "  # noqa: S608
            "ORDER BY rank LIMIT 200",
            [match, require_org().pk],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return articles.none()
    position = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)])
    ordered: QuerySet[KnowledgeArticle] = articles.filter(pk__in=ids).order_by(position)
    return ordered
