"""Pull feeds for channels that ingest them (``/feeds/<channel>.xml`` and ``.csv``), and
the seller's choices: which channels the shop is on, which listings stay off one."""

from __future__ import annotations

import csv
import hmac
import io
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape as _xml_escape

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.catalog import queries as catalog_queries
from marketplace.core.errors import NotFound
from marketplace.extensions import db
from marketplace.shops import acting
from marketplace.shops import services as shops
from marketplace.shops.models import Shop
from marketplace.sync import secrets, services
from marketplace.sync.connectors import FeedConnector, ListingPayload
from marketplace.sync.models import Channel, ConnectorType
from marketplace.sync.standing import State

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


# Characters XML 1.0 cannot carry at all, even escaped (C0 controls but tab and newlines,
# lone surrogates, U+FFFE/U+FFFF): a description pasted with one would break the feed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    return _xml_escape(_NOT_XML.sub("", text))


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


# -- the seller's choices ------------------------------------------------------------------


@bp.app_template_filter("channel_state")
def channel_state_label(state: object) -> str:
    """How a seller is told where a listing stands on a channel."""
    labels = {
        State.LIVE: _("Live"),
        State.PENDING: _("Being sent"),
        State.FAILED: _("Not sent"),
        State.DELISTED: _("Removed"),
        State.EXCLUDED: _("Kept off"),
        State.NOT_SENT: _("Not sent: not on sale here"),
    }
    return labels.get(State(str(state)), str(state))


def _seller_shop_and_channel(code: str) -> tuple[Shop, Channel]:
    shop = shops.shop_of(acting.seller())
    try:
        channel = services.channel_by_code(code)
    except NotFound:
        abort(404)
    if shop is None or not channel.enabled:
        abort(404)
    return shop, channel


def _back_to_dashboard() -> ResponseReturnValue:
    page = request.form.get("page", "")
    args = {"page": page} if page.isascii() and page.isdigit() else {}
    return redirect(url_for("shops.dashboard", **args) + "#channels")


@bp.post("/seller/channels/<code>/<any(join, leave):action>")
@login_required
def choose_channel(code: str, action: str) -> ResponseReturnValue:
    """The shop starts (or stops) showing its listings on a channel."""
    shop, channel = _seller_shop_and_channel(code)
    if action == "join":
        services.opt_in(shop, channel)
        message = _("Your listings on sale will be shown on %(channel)s.", channel=channel.name)
    else:
        services.opt_out(shop, channel)
        message = _("Your listings will be removed from %(channel)s.", channel=channel.name)
    db.session.commit()
    flash(message, "success")
    return _back_to_dashboard()


@bp.post("/seller/products/<id:product_id>/channels/<code>/<any(exclude, include):action>")
@login_required
def choose_listing_channel(product_id: int, code: str, action: str) -> ResponseReturnValue:
    """Keep one listing off a channel the shop is on, or let it go there again."""
    shop, channel = _seller_shop_and_channel(code)
    product = catalog_queries.owned_product(product_id, acting.seller())
    if action == "exclude":
        services.exclude_listing(shop, product, channel)
        message = _("%(name)s will not be shown on %(channel)s.", name=product.name,
                    channel=channel.name)  # fmt: skip
    else:
        services.include_listing(shop, product, channel)
        message = _("%(name)s will be shown on %(channel)s again.", name=product.name,
                    channel=channel.name)  # fmt: skip
    db.session.commit()
    flash(message, "success")
    return _back_to_dashboard()
