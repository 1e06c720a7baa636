"""``/feeds/<channel>.xml`` and ``.csv``: pull feeds for channels that ingest them."""

from __future__ import annotations

import csv
import hmac
import io
from collections.abc import Iterator
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, request, stream_with_context
from flask.typing import ResponseReturnValue

from marketplace.core.errors import NotFound
from marketplace.sync import secrets, services
from marketplace.sync.connectors import FeedConnector, ListingPayload
from marketplace.sync.models import Channel, ConnectorType

bp = Blueprint("sync", __name__)

_FEED = FeedConnector()
CSV_COLUMNS = ("id", "title", "description", "link", "image_link", "price", "availability",
               "brand", "gtin")  # fmt: skip


def _feed_channel(code: str) -> Channel:
    """The enabled feed channel ``code``; its key, when it has one, must be in ``?key=``."""
    try:
        channel = services.channel_by_code(code)
    except NotFound:
        abort(404)
    if channel.connector != ConnectorType.FEED or not channel.enabled:
        abort(404)
    if channel.credentials_encrypted:
        given = request.args.get("key", "")
        if not hmac.compare_digest(
            given.encode(), secrets.unseal(channel.credentials_encrypted).encode()
        ):
            abort(404)  # not 403: a feed's existence is not told to strangers
    return channel


def _xml(channel: Channel, items: Iterator[ListingPayload]) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">\n<channel>\n'
    yield f"<title>{escape(channel.name)}</title>\n"
    for item in items:
        fields = _FEED.body(item)
        yield "<item>\n"
        yield f"<g:id>{escape(fields['id'])}</g:id>\n"
        yield f"<title>{escape(fields['title'])}</title>\n"
        yield f"<description>{escape(fields['description'] or fields['title'])}</description>\n"
        yield f"<link>{escape(fields['link'])}</link>\n"
        yield f"<g:image_link>{escape(fields['image_link'])}</g:image_link>\n"
        yield f"<g:price>{fields['price']}</g:price>\n"
        yield f"<g:availability>{fields['availability']}</g:availability>\n"
        yield "<g:condition>new</g:condition>\n"
        yield f"<g:brand>{escape(fields['brand'])}</g:brand>\n"
        if fields["gtin"]:
            yield f"<g:gtin>{escape(fields['gtin'])}</g:gtin>\n"
        else:
            yield "<g:identifier_exists>no</g:identifier_exists>\n"
        yield "</item>\n"
    yield "</channel>\n</rss>\n"


def _csv(items: Iterator[ListingPayload]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        fields = _FEED.body(item)
        writer.writerow([fields[column] or "" for column in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@bp.get("/feeds/<code>.<any(xml, csv):fmt>")
def feed(code: str, fmt: str) -> ResponseReturnValue:
    """The channel's listings as Google Merchant product data (RSS 2.0) or CSV."""
    channel = _feed_channel(code)
    items = services.feed_items(channel)
    body = _xml(channel, items) if fmt == "xml" else _csv(items)
    mimetype = "application/xml" if fmt == "xml" else "text/csv"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    return response
