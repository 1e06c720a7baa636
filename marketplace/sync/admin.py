"""The back office's channel pages under /admin/channels (administrators only).

Health of every channel, adding and configuring a channel (credentials are written,
never shown again), its category map against the channel's own tree, the preview of
what enabling it would push and refuse, the dead letters with a retry button, and the
bulk-upload sheet for a channel whose API is not available.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.catalog.models import Category
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.numbers import ascii_int
from marketplace.extensions import db, login_manager
from marketplace.sync import services, standing, worker
from marketplace.sync.connectors import connector_for
from marketplace.sync.connectors.base import PushConnector, SyncError
from marketplace.sync.forms import ChannelForm, NewChannelForm
from marketplace.sync.models import Channel, ConnectorType
from marketplace.sync.secrets import UnreadableCredentials

bp = Blueprint("channels", __name__, url_prefix="/admin/channels")
REFUSED_SHOWN = 200
CATEGORIES_TIMEOUT_SECONDS = 3.0
CATEGORIES_WAIT_SECONDS = 0.5  # for the channel's next free request slot


@bp.before_request
def admins_only() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.app_template_filter("share")
def share_filter(value: float) -> str:
    """A share as a percentage with one decimal, written the reader's way (0,5 % in Vietnamese)."""
    return f"{format_decimal(value * 100, format='0.0')} %"


@bp.app_template_filter("duration")
def duration_filter(seconds: float) -> str:
    """A wait as people say it: 40 s, 12 min, 3 h, 2 days."""
    seconds = int(seconds)
    if seconds < 90:
        return _("%(count)s s", count=seconds)
    if seconds < 90 * 60:
        return _("%(count)s min", count=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("%(count)s h", count=round(seconds / 3600))
    return _("%(count)s days", count=seconds // 86400)


def _channel(code: str) -> Channel:
    try:
        return services.channel_by_code(code)
    except NotFound:
        abort(404)


def _production() -> bool:
    return bool(current_app.config.get("PRODUCTION"))


@bp.get("/")
def index() -> ResponseReturnValue:
    form = NewChannelForm(formdata=None, requests_per_second=5.0)
    return render_template("admin/channels.html", health=standing.all_health(), form=form)


def _save(form: NewChannelForm, channel: Channel | None) -> Channel:
    """Write the form's settings; raises ``DomainError`` with the reason when refused."""
    saved = services.add_channel(
        code=channel.code if channel else form.code.data,
        name=form.name.data,
        connector=form.connector.data,
        base_url=(form.base_url.data or "").strip() or None,
        # A blank box keeps the saved credentials: they are never sent back to the page.
        credentials=form.credentials.data or None,
        requests_per_second=form.requests_per_second.data or 0,
        production=_production(),
        new=channel is None,
    )
    if not isinstance(form, ChannelForm):
        return saved  # a new channel starts with no mark-up and no stock rule
    services.set_rules(
        saved,
        markup_percent=form.markup_percent.data or 0.0,
        markup_vnd=form.markup_vnd.data or 0,
        stock_held_back=form.stock_held_back.data or 0,
        stock_max_shown=form.stock_max_shown.data,
    )
    return saved


@bp.post("/")
def add() -> ResponseReturnValue:
    form = NewChannelForm()
    if form.validate_on_submit():
        try:
            channel = _save(form, None)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Channel %(name)s added. It stays off until you enable it.",
                    name=channel.name), "success")  # fmt: skip
            return redirect(url_for("channels.detail", code=channel.code))
    return render_template("admin/channels.html", health=standing.all_health(), form=form), 422


def _channel_categories(channel: Channel) -> tuple[list[tuple[str, str]], str | None]:
    """The channel's own category tree, asked of it now; or why it could not be had.

    Only when the page is shown, never when a refused form is shown again: that request
    holds the write lock, which taking a rate-limit turn would wait for. It waits at
    most half a second for a turn (a page must not hang on a slow or paused channel),
    and asks with a short timeout.
    """
    if channel.connector == ConnectorType.FEED or request.method != "GET":
        return [], None
    [slot] = worker.take_turns(channel.id, channel.requests_per_second)
    if slot - time.time() > CATEGORIES_WAIT_SECONDS:
        return [], _("the channel is busy, reload the page in a moment")
    time.sleep(max(0.0, slot - time.time()))
    try:
        connector = worker.connector_of(channel, timeout=CATEGORIES_TIMEOUT_SECONDS)
        return connector.categories(), None
    # The last four: an answer not of the shape the channel's contract says.
    except (
        SyncError,
        UnreadableCredentials,
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
    ) as error:  # fmt: skip  - the channel's answer was not the shape its contract says
        return [], str(error)[:300]


def _detail_page(channel: Channel, form: ChannelForm, status: int = 200) -> ResponseReturnValue:
    preview = services.preview(channel)
    their_categories, categories_problem = _channel_categories(channel)
    return render_template(
        "admin/channel.html",
        channel=channel,
        form=form,
        health=standing.health(channel),
        preview=preview,
        refused=[
            (product, services.refusal_reasons(missing))
            for product, missing in preview.refused[:REFUSED_SHOWN]
        ],
        categories=db.session.scalars(select(Category).order_by(Category.name_vi)).all(),
        their_categories=their_categories,
        categories_problem=categories_problem,
        dead_letters=standing.dead_letters(channel),
        shops_on=standing.shops_on(channel),
        pushes=isinstance(connector_for(channel.connector), PushConnector),
    ), status


def _settings_form(channel: Channel) -> ChannelForm:
    return ChannelForm(
        formdata=None,
        code=channel.code,
        name=channel.name,
        connector=str(channel.connector),
        base_url=channel.base_url or "",
        requests_per_second=channel.requests_per_second,
        markup_percent=channel.price_markup_percent,
        markup_vnd=channel.price_markup_vnd,
        stock_held_back=channel.stock_held_back,
        stock_max_shown=channel.stock_max_shown,
    )


@bp.get("/<code>")
def detail(code: str) -> ResponseReturnValue:
    channel = _channel(code)
    return _detail_page(channel, _settings_form(channel))


@bp.post("/<code>")
def save(code: str) -> ResponseReturnValue:
    channel = _channel(code)
    form = ChannelForm(code=channel.code)
    form.code.data = channel.code  # fixed once added; the box is not sent
    if not form.validate_on_submit():
        return _detail_page(channel, form, 422)
    try:
        _save(form, channel)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _detail_page(_channel(code), form, 422)
    db.session.commit()
    flash(_("Settings of %(name)s saved.", name=channel.name), "success")
    return redirect(url_for("channels.detail", code=channel.code))


@bp.post("/<code>/categories")
def save_categories(code: str) -> ResponseReturnValue:
    channel = _channel(code)  # CSRFProtect has checked the form's token already
    targets: dict[int, str] = {}
    for name, value in request.form.items():
        if name.startswith("category-"):
            try:
                targets[ascii_int(name.removeprefix("category-"))] = value
            except ValueError:
                continue  # not one of the page's boxes
    try:
        services.set_category_map(channel, targets)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Category map saved."), "success")
    return redirect(url_for("channels.detail", code=code) + "#categories")


@bp.post("/<code>/<any(enable, disable):action>")
def switch(code: str, action: str) -> ResponseReturnValue:
    channel = _channel(code)  # CSRFProtect has checked the form's token already
    if action == "disable":
        removed = services.disable_channel(channel)
        db.session.commit()
        flash(_("%(name)s is off; %(count)s listings will be removed from it.",
                name=channel.name, count=removed), "success")  # fmt: skip
        return redirect(url_for("channels.detail", code=code))
    try:
        preview = services.enable_channel(channel)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("%(name)s is on: %(count)s listings are being sent.",
                name=channel.name, count=len(preview.pushable)), "success")  # fmt: skip
    return redirect(url_for("channels.detail", code=code))


@bp.post("/<code>/shops")
def opt_in_shops(code: str) -> ResponseReturnValue:
    """Put every approved shop on the channel (each seller can still leave it)."""
    channel = _channel(code)  # CSRFProtect has checked the form's token already
    added, already = services.opt_in_approved_shops(channel)
    db.session.commit()
    flash(_("%(added)s shops added to %(name)s; %(already)s were on it already.",
            added=added, name=channel.name, already=already), "success")  # fmt: skip
    return redirect(url_for("channels.detail", code=code))


@bp.post("/<code>/dead-letters/retry")
def retry_dead_letters(code: str) -> ResponseReturnValue:
    channel = _channel(code)  # CSRFProtect has checked the form's token already
    chosen = request.form.get("message_id")
    ids = None
    if chosen:
        try:
            ids = [ascii_int(chosen)]
        except ValueError:
            abort(400)
    revived = standing.retry_dead(channel, ids)
    flash(_("%(count)s sends will be tried again.", count=revived), "success")
    return redirect(url_for("channels.detail", code=code) + "#dead-letters")


@bp.get("/<code>/bulk-upload.csv")
def bulk_upload(code: str) -> ResponseReturnValue:
    """The channel's bulk-upload sheet, for uploading by hand where no API can be used."""
    channel = _channel(code)
    response = Response(stream_with_context(services.bulk_sheet(channel)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{channel.code}-bulk.csv"'
    return response
