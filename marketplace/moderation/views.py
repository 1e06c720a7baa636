"""The back office under /admin (queues, decisions, reports, the audit log) and the
public "report a problem" form."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, user_logged_out
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.catalog import ocop
from marketplace.catalog import services as catalog
from marketplace.catalog.forms import ProductForm
from marketplace.catalog.models import (
    Category,
    OcopCertificate,
    Product,
    ProductRevision,
    ProductStatus,
)
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.forms import form_problem
from marketplace.core.markup import render_markdown
from marketplace.core.models import local_today, utcnow
from marketplace.core.numbers import ascii_int
from marketplace.core.pagination import clamp_page, paginate
from marketplace.core.security import MAX_ID
from marketplace.extensions import db, limiter, login_manager
from marketplace.media import services as media
from marketplace.media.models import Document, Image
from marketplace.moderation import figures, reports, services
from marketplace.moderation.forms import (
    DECISIONS,
    BulkDecisionForm,
    DecisionForm,
    OcopImportForm,
    ReportForm,
    ResolveForm,
)
from marketplace.moderation.models import ReportReason, Resolution
from marketplace.shops import acting, places
from marketplace.shops import services as shops
from marketplace.shops.forms import business_type_choices
from marketplace.shops.models import Shop, ShopRevision, ShopStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")
public_bp = Blueprint("reports", __name__)

# Items waiting longer than this stand out in the queues.
STALE_AFTER = timedelta(hours=24)
AUDIT_PAGE_SIZE = 50


# Account administration: admins only, not moderators.
ADMIN_ONLY = frozenset(
    {
        "admin.users",
        "admin.user",
        "admin.user_action",
        "admin.start_assisting",
        "admin.stop_assisting",
        "admin.ocop_list",
        "channels.index",
    }
)


@bp.before_request
def staff_only() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.can_moderate:
        abort(403)
    if request.endpoint in ADMIN_ONLY and not current_user.is_admin:
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


@bp.app_template_global()
def admin_nav_items() -> list[tuple[str, str]]:
    """The back office's menu: what this member of staff may open."""
    items = [
        ("admin.dashboard", _("Overview")),
        ("admin.provincial_report", _("Provincial report")),
        ("admin.shop_queue", _("Shops to review")),
        ("admin.product_queue", _("Listings to review")),
        ("admin.all_shops", _("Shops")),
        ("admin.all_products", _("Listings")),
        ("admin.users", _("Members")),
        ("admin.ocop_list", _("OCOP list")),
        ("channels.index", _("Channels")),
        ("admin.report_queue", _("Reports")),
        ("admin.audit", _("Audit log")),
    ]
    return [item for item in items if current_user.is_admin or item[0] not in ADMIN_ONLY]


# The query arguments the back office's lists understand; links keep these and no others
# (an argument named like url_for's own, "endpoint" say, would break the link).
LIST_ARGS = ("q", "status", "target_type", "target_id", "actor")


@bp.app_template_global()
def list_args(**changes: object) -> dict[str, object]:
    kept = {key: request.args[key] for key in LIST_ARGS if request.args.get(key)}
    return {**kept, **changes}


@bp.app_template_filter("action_label")
def action_label_filter(action: str) -> str:
    return str(services.ACTION_LABELS.get(action, action))


@bp.app_template_filter("business_type")
def business_type_filter(value: object) -> str:
    labels = {choice.value: str(choice.label) for choice in business_type_choices()}
    return labels.get(str(value), str(value))


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
        shop_revisions=services.shop_revision_queue(),
        open_reports=reports.open_count(),
    )


# -- queues and decisions -----------------------------------------------------------------

# kind → its queue, the queue's page, an item's page, and the kind to go on with when
# none of it waits (a listing's edits after the listings, a shop's changes after the shops).
KINDS: dict[str, tuple[Callable[[], list], str, str, str]] = {
    "shop": (services.shop_queue, "admin.shop_queue", "admin.shop", "shop_revision"),
    "shop_revision": (
        services.shop_revision_queue, "admin.shop_queue", "admin.shop_revision", "shop"
    ),
    "product": (services.product_queue, "admin.product_queue", "admin.product", "revision"),
    "revision": (services.revision_queue, "admin.product_queue", "admin.revision", "product"),
}  # fmt: skip


def _next_item(kind: str) -> str:
    """Where to go after a decision: the next waiting item, else the queue's page."""
    for candidate in (kind, KINDS[kind][3]):
        queue, _queue_page, item_page, _then = KINDS[candidate]
        if waiting := queue():
            return url_for(item_page, item_id=waiting[0].id)
    return url_for(KINDS[kind][1])


def _decision_problem(form: DecisionForm) -> str | None:
    """Why a decision form cannot be acted on, in words naming the field; None when it can."""
    if not form.validate_on_submit():
        return form_problem(form)
    if form.decision.data not in DECISIONS:
        return _("Press Approve or Refuse.")
    return None


def _decide(kind: str, item_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    if problem := _decision_problem(form):
        flash(problem, "error")
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
    if problem := _decision_problem(form):
        flash(problem, "error")
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
    if outcome.missing:
        flash(_("%(count)s do not exist.", count=len(outcome.missing)), "error")
    return redirect(queue)


@bp.get("/shops")
def shop_queue() -> ResponseReturnValue:
    return render_template(
        "admin/shop_queue.html",
        shops=services.shop_queue(),
        revisions=services.shop_revision_queue(),
        form=BulkDecisionForm(),
    )


# One per shops.services.REVIEWED_FIELDS.
SHOP_FIELD_LABELS = {
    "name": _l("Shop name"),
    "business_type": _l("Business type"),
    "tax_code": _l("Tax code"),
    "id_number": _l("ID number"),
    "registration_document_id": _l("Registration document"),
}


@bp.get("/shop-revisions/<id:item_id>")
def shop_revision(item_id: int) -> ResponseReturnValue:
    revision = db.session.get(ShopRevision, item_id) or abort(404)
    return render_template(
        "admin/shop_revision.html",
        revision=revision,
        shop=revision.shop,
        changes=shops.shop_revision_changes(revision),
        labels=SHOP_FIELD_LABELS,
        form=DecisionForm(),
    )


@bp.get("/shop-revisions/<id:item_id>/document")
def shop_revision_document(item_id: int) -> ResponseReturnValue:
    """The registration document a change proposes (not yet the shop's own)."""
    revision = db.session.get(ShopRevision, item_id) or abort(404)
    document_id = revision.content.get("registration_document_id")
    document = db.session.get(Document, document_id) if document_id else None
    if document is None:
        abort(404)
    return media.private_download(document)


@bp.post("/shop-revisions/<id:item_id>/decide")
def decide_shop_revision(item_id: int) -> ResponseReturnValue:
    return _decide("shop_revision", item_id)


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


# -- after publication --------------------------------------------------------------------

# action → (service, whether it needs a reason)
ACTIONS: dict[str, dict[str, tuple[Callable[..., object], bool]]] = {
    "shop": {
        "suspend": (services.suspend_shop, True),
        "reinstate": (services.reinstate_shop, False),
        "trust": (partial(services.set_trusted, trusted=True), False),
        "untrust": (partial(services.set_trusted, trusted=False), False),
    },
    "product": {
        "hide": (services.hide_product, True),
        "unhide": (services.unhide_product, False),
    },
    "user": {
        "ban": (services.ban_user, True),
        "unban": (services.unban_user, False),
    },
}
ITEM_PAGES = {"shop": "admin.shop", "product": "admin.product", "user": "admin.user"}
DONE = {
    "suspend": _l("The shop is suspended; its listings are off the site."),
    "reinstate": _l("The shop is open again, with the listings it had."),
    "trust": _l("The shop's new listings now publish without review."),
    "untrust": _l("The shop's new listings wait for review again."),
    "hide": _l("The listing is hidden."),
    "unhide": _l("The listing is shown again."),
    "ban": _l("The member is banned and logged out everywhere."),
    "unban": _l("The member can log in again."),
}


def _act(kind: str, item_id: int, action: str) -> ResponseReturnValue:
    service, needs_reason = ACTIONS[kind][action]
    page = url_for(ITEM_PAGES[kind], item_id=item_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(form_problem(form), "error")
        return redirect(page)
    try:
        if needs_reason:
            reason = services.reason_text(form.reason.data, form.details.data)
            service(current_user, item_id, reason=reason)
        else:
            service(current_user, item_id)
    except NotFound:
        db.session.rollback()
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(page)
    db.session.commit()
    flash(str(DONE[action]), "success")
    return redirect(page)


@bp.post("/shops/<id:item_id>/<any(suspend, reinstate, trust, untrust):action>")
def shop_action(item_id: int, action: str) -> ResponseReturnValue:
    return _act("shop", item_id, action)


@bp.post("/products/<id:item_id>/<any(hide, unhide):action>")
def product_action(item_id: int, action: str) -> ResponseReturnValue:
    return _act("product", item_id, action)


@bp.post("/users/<id:item_id>/<any(ban, unban):action>")
def user_action(item_id: int, action: str) -> ResponseReturnValue:
    return _act("user", item_id, action)


BROWSE_PAGE_SIZE = 50


def _browse_page(query):
    return paginate(query, page=clamp_page(request.args.get("page")), per_page=BROWSE_PAGE_SIZE)


def _search_text() -> str:
    return (request.args.get("q") or "").strip()[:100]


@bp.get("/shops/all")
def all_shops() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status not in (None, *ShopStatus):
        abort(400)
    page = _browse_page(services.find_shops(_search_text(), status))
    return render_template(
        "admin/browse.html", kind="shop", page=page, statuses=list(ShopStatus), title=_("Shops")
    )


@bp.get("/products/all")
def all_products() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status not in (None, *ProductStatus):
        abort(400)
    page = _browse_page(services.find_products(_search_text(), status))
    return render_template(
        "admin/browse.html",
        kind="product",
        page=page,
        statuses=list(ProductStatus),
        title=_("Listings"),
    )


@bp.get("/users")
def users() -> ResponseReturnValue:
    page = _browse_page(services.find_users(_search_text()))
    return render_template(
        "admin/browse.html", kind="user", page=page, statuses=[], title=_("Members")
    )


@bp.get("/users/<id:item_id>")
def user(item_id: int) -> ResponseReturnValue:
    member = db.session.get(User, item_id) or abort(404)
    history = db.session.scalars(services.audit_entries(target_type="user", target_id=member.id))
    return render_template(
        "admin/user.html",
        member=member,
        shop=shops.shop_of(member),
        form=DecisionForm(),
        history=list(history),
    )


# -- assisted mode: staff acting for a seller ------------------------------------------------


@bp.post("/users/<id:item_id>/assist")
def start_assisting(item_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    member = db.session.get(User, item_id) or abort(404)
    if not form.validate_on_submit():
        flash(form_problem(form), "error")
        return redirect(url_for("admin.user", item_id=item_id))
    try:
        services.start_assisting(current_user, member)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.user", item_id=item_id))
    db.session.commit()
    acting.start(member)
    return redirect(url_for("shops.dashboard"))


@bp.post("/assist/stop")
def stop_assisting() -> ResponseReturnValue:
    member = acting.acting_for()
    acting.stop()
    if member is None:
        return redirect(url_for("admin.users"))
    services.stop_assisting(current_user, member)
    db.session.commit()
    return redirect(url_for("admin.user", item_id=member.id))


@user_logged_out.connect
def stop_assisting_at_logout(sender: object, user: User, **extra: object) -> None:
    """Logging out ends assisted mode, recorded as such; it never passes to the next log-in."""
    member = acting.end_for(user)
    if member is not None:
        services.stop_assisting(user, member)
        db.session.commit()


@public_bp.after_app_request
def record_assisted_action(response: Response) -> Response:
    """Every change staff make for a seller is in the audit log as "staff X for shop Y"."""
    if (
        request.method == "POST"
        and request.path.startswith("/seller")
        and response.status_code in (302, 303)
        and (member := acting.acting_for()) is not None
    ):
        services.record_assisted(current_user, member, request.endpoint or request.path)
        db.session.commit()
    return response


# -- reports ---------------------------------------------------------------------------------

REPORT_KINDS = {"san-pham": "product", "gian-hang": "shop"}


def _visitor() -> str:
    """Reports are limited per member, or per address for visitors who are not logged in."""
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


def _target_page(target: Product | Shop) -> str:
    if isinstance(target, Product):
        return url_for("catalog.product_detail", product_id=target.id, slug=target.slug)
    return url_for("shops.storefront", slug=target.slug)


@public_bp.route(
    "/bao-cao/<any('san-pham', 'gian-hang'):kind>/<id:target_id>", methods=["GET", "POST"]
)
@limiter.limit(
    lambda: current_app.config["REPORT_RATE_LIMIT"],
    key_func=_visitor,
    methods=["POST"],
    error_message=lambda: _("You have sent many reports."),
)
def report(kind: str, target_id: int) -> ResponseReturnValue:
    try:
        target = reports.reportable(REPORT_KINDS[kind], target_id)
    except NotFound:
        abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            reports.file_report(
                target,
                reason=ReportReason(form.reason.data),
                details=form.details.data or "",
                reporter=current_user if current_user.is_authenticated else None,
            )
        except reports.ReportError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Thank you. Admins will look at your report."), "success")
            return redirect(_target_page(target))
    return render_template("moderation/report.html", form=form, target=target)


@bp.get("/reports")
def report_queue() -> ResponseReturnValue:
    return render_template(
        "admin/reports.html",
        groups=reports.open_groups(),
        form=ResolveForm(),
        reasons=reports.REPORT_REASONS,
    )


@bp.post("/reports/<any(product, shop):target_type>/<id:target_id>/resolve")
def resolve_reports(target_type: str, target_id: int) -> ResponseReturnValue:
    form = ResolveForm()
    if not form.validate_on_submit():
        flash(form_problem(form), "error")
        return redirect(url_for("admin.report_queue"))
    if form.resolution.data not in set(Resolution):
        flash(_("Choose what to do about the reports."), "error")
        return redirect(url_for("admin.report_queue"))
    try:
        closed = reports.resolve(
            current_user,
            target_type,
            target_id,
            resolution=Resolution(form.resolution.data),
            note=form.note.data or "",
        )
    except NotFound:
        db.session.rollback()
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.report_queue"))
    db.session.commit()
    flash(_("%(count)s reports closed.", count=closed), "success")
    return redirect(url_for("admin.report_queue"))


# -- audit log -----------------------------------------------------------------------------


def _audit_query():
    target_type = request.args.get("target_type") or None
    if target_type not in (None, *services.AUDIT_TARGETS):
        abort(400)
    raw_id = request.args.get("target_id") or None
    try:
        target_id = ascii_int(raw_id) if raw_id is not None else None
    except ValueError:
        abort(400)
    if target_id is not None and not 0 <= target_id <= MAX_ID:
        abort(400)
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
    return render_template("admin/audit.html", page=page, target_types=services.AUDIT_TARGETS)


def _csv(rows: Iterable[Iterable[object]], filename: str) -> Response:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    # A byte-order mark: spreadsheet programs then read the Vietnamese as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.get("/audit.csv")
def audit_csv() -> ResponseReturnValue:
    header = ["id", "at", "actor", "action", "target_type", "target_id", "for_shop", "before"]
    rows = (
        [
            entry.id,
            entry.created_at.isoformat(),
            entry.actor.email if entry.actor else "server",
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.on_behalf_of_shop_id or "",
            entry.before,
            entry.after,
            entry.reason or "",
        ]
        for entry in db.session.scalars(_audit_query())
    )
    return _csv(itertools.chain([[*header, "after", "reason"]], rows), "audit-log.csv")


# -- the OCOP list ---------------------------------------------------------------------------


@bp.route("/ocop", methods=["GET", "POST"])
def ocop_list() -> ResponseReturnValue:
    form = OcopImportForm()
    if form.validate_on_submit():
        try:
            outcome = services.import_ocop_list(current_user, form.file.data.read())
        except ocop.OcopImportError as error:
            db.session.rollback()
            form.file.errors = list(error.problems)
        else:
            db.session.commit()
            flash(
                _(
                    "%(added)s certificates added, %(updated)s updated; "
                    "%(verified)s listings now verified.",
                    added=outcome.added,
                    updated=outcome.updated,
                    verified=outcome.verified_listings,
                ),
                "success",
            )
            return redirect(url_for("admin.ocop_list"))
    claims = db.session.scalars(
        select(Product)
        .where(Product.ocop_stars.is_not(None), Product.status == ProductStatus.PUBLISHED)
        .order_by(Product.ocop_verified, Product.id)
    ).all()
    return render_template(
        "admin/ocop.html",
        form=form,
        certificates=db.session.scalar(select(func.count(OcopCertificate.id))),
        claims=claims,
    )


# -- provincial report ----------------------------------------------------------------------


@bp.get("/report")
def provincial_report() -> ResponseReturnValue:
    report = figures.build_report(local_today())
    return render_template("admin/report.html", report=report)


@bp.get("/report.csv")
def provincial_report_csv() -> ResponseReturnValue:
    report = figures.build_report(local_today())
    return _csv(figures.report_rows(report), f"bao-cao-{report.months[-1]}.csv")
