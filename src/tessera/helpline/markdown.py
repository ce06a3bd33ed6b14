"""Knowledge-base Markdown rendered safely: raw HTML is escaped, never passed through, and links
may only use safe schemes (markdown-it's validateLink refuses javascript:, vbscript:, data:)."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable("table")


def render_markdown(text: str) -> SafeString:
    html: str = _renderer.render(text)
    return mark_safe(html)  # noqa: S308 - html disabled: the output is escaped
