"""Sellers write descriptions in Markdown; shoppers see sanitised HTML."""

from __future__ import annotations

from html import unescape

import nh3
from markdown_it import MarkdownIt

# Raw HTML in Markdown is escaped by the parser, and nh3 (ammonia) then keeps only these
# tags, attributes and URL schemes: no script, no event handlers, no javascript: links.
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Headings in a description must not compete with the page's own h1/h2.
_markdown.disable(["heading", "lheading", "image"])


def render_markdown(text: str) -> str:
    """Return sanitised HTML for the Markdown ``text``."""
    html = _markdown.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener ugc",
    )


def plain_text(html: str) -> str:
    """Return the text of sanitised ``html``, for meta descriptions and structured data."""
    text = nh3.clean(html or "", tags=set())
    return " ".join(unescape(text).split())
