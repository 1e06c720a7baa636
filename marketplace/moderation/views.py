"""The back office under /admin: queues, decisions and the audit log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.forms import ProductForm
from marketplace.catalog.models import Category, Product, ProductRevision
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.markup import render_markdown
from marketplace.core.models import utcnow
from marketplace.core.pagination import clamp_page, paginate
from marketplace.extensions import db, login_manager
from marketplace.media.models import Image
from marketplace.moderation import services
from marketplace.moderation.forms import DECISIONS, BulkDecisionForm, DecisionForm
from marketplace.shops import places
from marketplace.shops.models import Shop

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Items waiting longer than this stand out in the queues.
STALE_AFTER = timedelta(hours=24)
AUDIT_PAGE_SIZE = 50


@bp.before_request
def admins_only() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.app_template_filter("waited")
def waited_filter(since) -> str:
    hours = int((utcnow() - since).total_seconds() // 3600)
    if hours < 1:
        return _("under an hour")
    if hours < 48:
        return _("%(hours)s hours", hours=hours)
    return _("%(days)s days", days=hours // 24)


@bp.app_template_test("stale")
def stale_test(since) -> bool:
    return utcnow() - since > STALE_AFTER


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    return render_template(
        "admin/dashboard.html",
        shops=services.shop_queue(),
        products=services.product_queue(),
        revisions=services.revision_queue(),
    )


# -- queues and decisions -----------------------------------------------------------------

KINDS = {
    "shop": (Shop, "admin.shop_queue", "admin.shop"),
    "product": (Product, "admin.product_queue", "admin.product"),
    "revision": (ProductRevision, "admin.product_queue", "admin.revision"),
}


def _queue_of(kind: str) -> list:
    if kind == "shop":
        return services.shop_queue()
    if kind == "product":
        return services.product_queue()
    return services.revision_queue()


def _next_item(kind: str) -> str:
    """Where to go after a decision: the next waiting item of the kind, else its queue."""
    _model, queue_endpoint, item_endpoint = KINDS[kind]
    waiting = _queue_of(kind)
    if waiting:
        return url_for(item_endpoint, item_id=waiting[0].id)
    if kind == "revision" and services.product_queue():
        return url_for("admin.product", item_id=services.product_queue()[0].id)
    return url_for(queue_endpoint)


def _decide(kind: str, item_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    if not form.validate_on_submit() or form.decision.data not in DECISIONS:
        flash(_("Your form expired. Please send it again."), "error")
        return redirect(url_for(KINDS[kind][2], item_id=item_id))
    approve = form.decision.data == "approve"
    try:
        reason = None if approve else services.reason_text(form.reason.data, form.details.data)
        services.DECIDERS[kind](current_user, item_id, approve=approve, reason=reason)
    except services.AlreadyDecided as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_next_item(kind))
    except NotFound:
        db.session.rollback()
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(KINDS[kind][2], item_id=item_id))
    db.session.commit()
    flash(_("Approved.") if approve else _("Refused; the seller has been told why."), "success")
    return redirect(_next_item(kind))


def _bulk(kind: str) -> ResponseReturnValue:
    form = BulkDecisionForm()
    queue = url_for(KINDS[kind][1])
    if not form.validate_on_submit() or form.decision.data not in DECISIONS:
        flash(_("Your form expired. Please send it again."), "error")
        return redirect(queue)
    if not form.ids.data:
        flash(_("Tick the items to decide first."), "error")
        return redirect(queue)
    approve = form.decision.data == "approve"
    try:
        reason = None if approve else services.reason_text(form.reason.data, form.details.data)
        outcome = services.decide_many(
            current_user, kind, form.ids.data, approve=approve, reason=reason
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(queue)
    db.session.commit()
    flash(_("%(count)s decided.", count=len(outcome.decided)), "success")
    if outcome.skipped:
        flash(
            _("%(count)s had already been decided by someone else.", count=len(outcome.skipped)),
            "error",
        )
    return redirect(queue)


@bp.get("/shops")
def shop_queue() -> ResponseReturnValue:
    return render_template(
        "admin/shop_queue.html", shops=services.shop_queue(), form=BulkDecisionForm()
    )


@bp.post("/shops/bulk")
def shop_bulk() -> ResponseReturnValue:
    return _bulk("shop")


@bp.get("/shops/<id:item_id>")
def shop(item_id: int) -> ResponseReturnValue:
    shop = db.session.get(Shop, item_id) or abort(404)
    history = db.session.scalars(services.audit_entries(target_type="shop", target_id=shop.id))
    return render_template(
        "admin/shop.html",
        shop=shop,
        address=places.format_address(shop.street, shop.commune_code, shop.province_code),
        form=DecisionForm(),
        history=list(history),
    )


@bp.post("/shops/<id:item_id>/decide")
def decide_shop(item_id: int) -> ResponseReturnValue:
    return _decide("shop", item_id)


@bp.get("/products")
def product_queue() -> ResponseReturnValue:
    return render_template(
        "admin/product_queue.html",
        products=services.product_queue(),
        revisions=services.revision_queue(),
        form=BulkDecisionForm(),
    )


@bp.post("/products/bulk")
def product_bulk() -> ResponseReturnValue:
    return _bulk("product")


@bp.get("/products/<id:item_id>")
def product(item_id: int) -> ResponseReturnValue:
    product = db.session.get(Product, item_id) or abort(404)
    history = db.session.scalars(
        services.audit_entries(target_type="product", target_id=product.id)
    )
    return render_template(
        "admin/product.html",
        product=product,
        form=DecisionForm(),
        rejections=services.rejections_of_shop(product.shop),
        history=list(history),
    )


@bp.post("/products/<id:item_id>/decide")
def decide_product(item_id: int) -> ResponseReturnValue:
    return _decide("product", item_id)


def _field_labels() -> dict[str, str]:
    """The product form's own labels, so the comparison speaks as the seller's form did."""
    labels = {name: str(getattr(ProductForm, name).args[0]) for name in catalog.CONTENT_FIELDS}
    return {**labels, "image_ids": _("Pictures")}


@bp.get("/revisions/<id:item_id>")
def revision(item_id: int) -> ResponseReturnValue:
    revision = db.session.get(ProductRevision, item_id) or abort(404)
    changes = catalog.revision_changes(revision)
    image_ids = [i for side in changes.get("image_ids", ((), ())) for i in side]
    category_ids = [i for i in changes.get("category_id", ()) if i is not None]
    return render_template(
        "admin/revision.html",
        revision=revision,
        product=revision.product,
        changes=changes,
        field_labels=_field_labels(),
        images={i.id: i for i in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))},
        categories=dict(
            db.session.execute(
                select(Category.id, Category.name_vi).where(Category.id.in_(category_ids))
            ).all()
        ),
        markdown=render_markdown,
        form=DecisionForm(),
        rejections=services.rejections_of_shop(revision.product.shop),
    )


@bp.post("/revisions/<id:item_id>/decide")
def decide_revision(item_id: int) -> ResponseReturnValue:
    return _decide("revision", item_id)


# -- audit log -----------------------------------------------------------------------------


def _audit_query():
    target_type = request.args.get("target_type") or None
    if target_type not in (None, *services.TARGET_TYPES.values()):
        abort(400)
    target_id = request.args.get("target_id", type=int)
    actor_email = (request.args.get("actor") or "").strip().lower()
    actor_id = None
    if actor_email:
        actor_id = db.session.scalar(select(User.id).where(User.email == actor_email)) or 0
    return services.audit_entries(target_type=target_type, target_id=target_id, actor_id=actor_id)


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    page = paginate(
        _audit_query(), page=clamp_page(request.args.get("page")), per_page=AUDIT_PAGE_SIZE
    )
    return render_template("admin/audit.html", page=page, target_types=services.TARGET_TYPES)


@bp.get("/audit.csv")
def audit_csv() -> ResponseReturnValue:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["id", "at", "actor", "action", "target_type", "target_id", "before", "after", "reason"]
    )
    for entry in db.session.scalars(_audit_query()):
        writer.writerow(
            [
                entry.id,
                entry.created_at.isoformat(),
                entry.actor.email if entry.actor else "server",
                entry.action,
                entry.target_type,
                entry.target_id,
                entry.before,
                entry.after,
                entry.reason or "",
            ]
        )
    # A byte-order mark: spreadsheet programs then read the Vietnamese as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )
