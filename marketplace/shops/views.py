"""Shop pages: the seller's shop forms and dashboard, public storefronts."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from marketplace.catalog import queries as catalog_queries
from marketplace.core.numbers import NumberFormatError, parse_whole_number
from marketplace.core.pagecache import cached_page
from marketplace.core.pagination import clamp_page
from marketplace.extensions import db
from marketplace.media import services as media
from marketplace.media.models import Document, Image
from marketplace.moderation import services as moderation
from marketplace.orders import services as orders
from marketplace.shops import acting, places, services
from marketplace.shops.forms import SellingForm, ShopForm
from marketplace.shops.models import BusinessType, Shop
from marketplace.shops.rules import RULES_VERSION
from marketplace.sync import standing

bp = Blueprint("shops", __name__)


@bp.app_context_processor
def assisted_mode() -> dict[str, object]:
    """Every page shows it when staff act for a seller, so it is never forgotten."""
    return {"acting_for": acting.acting_for()}


STOREFRONT_PAGE_SIZE = 24
DASHBOARD_PAGE_SIZE = 30


def _uploaded(field_data: object) -> FileStorage | None:
    if isinstance(field_data, FileStorage) and field_data.filename:
        return field_data
    return None


def _details(form: ShopForm) -> services.ShopDetails:
    return services.ShopDetails(
        name=form.name.data or "",
        slug=(form.slug.data or "").strip() or None,
        description=form.description.data or "",
        phone=form.phone.data or "",
        street=form.street.data or "",
        province_code=form.province_code.data or 0,
        commune_code=form.commune_code.data or 0,
        business_type=BusinessType(form.business_type.data),
        tax_code=form.tax_code.data,
        id_number=form.id_number.data,
    )


_FIELD_OF_ERROR = {
    services.SlugTaken: "slug",
    services.InvalidSlug: "slug",
    services.InvalidAddress: "commune_code",
    services.InvalidLegalProfile: "tax_code",
    services.RulesNotAccepted: "accept_rules",
}


def _show_error(form: ShopForm, error: Exception) -> None:
    field = _FIELD_OF_ERROR.get(type(error))
    if isinstance(error, services.accounts.InvalidPhone):
        field = "phone"
    if field:
        getattr(form, field).errors.append(str(error))
    else:
        form.form_errors.append(str(error))


def _files(form: ShopForm) -> tuple[Document | None, Image | None, Image | None]:
    """Store the form's files, pictures checked first; raise ``MediaError`` naming a bad one.

    Call it only once the details passed ``services.check_details``: a refused form must
    not leave the owner's ID scan behind on disk.
    """
    document_upload = _uploaded(form.registration_document.data)
    pictures = [
        (name, upload)
        for name, upload in (
            ("logo", _uploaded(form.logo.data)),
            ("banner", _uploaded(form.banner.data)),
        )
        if upload is not None
    ]
    stored = media.ingest_images(
        [(upload.filename or name, upload.stream) for name, upload in pictures]
    )
    by_name = {name: image for (name, _upload), image in zip(pictures, stored, strict=True)}
    document = (
        media.store_document(document_upload.stream, document_upload.filename or "")
        if document_upload
        else None
    )
    return document, by_name.get("logo"), by_name.get("banner")


def _wants_commune_refresh(form: ShopForm) -> bool:
    """Handle the address helpers, which re-render the form instead of saving it.

    Without JavaScript, changing the province needs a round trip to list its communes; an
    old (pre-July 2025) address is converted to the new province and commune.
    """
    if "convert_legacy" in request.form:
        mapped = places.map_legacy_address_line(form.legacy_address.data or "")
        if mapped is None:
            form.legacy_address.errors = [_("This old address could not be recognised.")]
        else:
            form.province_code.data, commune_code = mapped
            form.fill_place_choices()
            form.commune_code.data = commune_code or 0
            if commune_code is None:
                flash(_("Province found; choose the commune or ward in the list."), "info")
        return True
    return "refresh_places" in request.form


@bp.route("/seller/shop/new", methods=["GET", "POST"])
@login_required
def open_shop() -> ResponseReturnValue:
    owner = acting.seller()
    if services.shop_of(owner) is not None:
        return redirect(url_for("shops.dashboard"))
    form = ShopForm()
    if request.method == "GET":
        form.province_code.data = places.default_province_code()
        form.phone.data = services.accounts.format_phone(owner.phone)
    form.fill_place_choices()
    if request.method == "POST" and not _wants_commune_refresh(form) and form.validate():
        try:
            services.check_can_open(owner, form.accepted_rules_version)
            services.check_details(_details(form))
            document, logo, banner = _files(form)
            shop = services.open_shop(
                owner,
                _details(form),
                accepted_rules_version=form.accepted_rules_version,
                registration_document=document,
                logo=logo,
                banner=banner,
            )
        except (services.ShopError, media.MediaError, services.accounts.AccountError) as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Your shop %(name)s is waiting for approval. You can add products now.",
                    name=shop.name,
                ),
                "success",
            )
            return redirect(url_for("shops.dashboard"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("shops/shop_form.html", form=form, shop=None), status


@bp.route("/seller/shop/edit", methods=["GET", "POST"])
@login_required
def edit_shop() -> ResponseReturnValue:
    shop = services.shop_of(acting.seller())
    if shop is None:
        return redirect(url_for("shops.open_shop"))
    form = ShopForm(obj=shop)
    if request.method == "GET":
        form.phone.data = services.accounts.format_phone(shop.phone)
        form.accept_rules.data = True
        if (pending := services.pending_shop_revision(shop)) is not None:
            # The seller goes on from what they proposed, not from the approved details.
            for name in ("name", "business_type", "tax_code", "id_number"):
                getattr(form, name).data = pending.content[name]
    form.fill_place_choices()
    if request.method == "POST" and not _wants_commune_refresh(form) and form.validate():
        try:
            services.check_details(_details(form), shop)
            document, logo, banner = _files(form)
            staged = services.update_shop(
                shop,
                _details(form),
                author=acting.seller(),
                registration_document=document,
                logo=logo,
                banner=banner,
            )
        except (services.ShopError, media.MediaError, services.accounts.AccountError) as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            if staged:
                flash(
                    _(
                        "Saved. The new name and legal details wait for an admin's review; "
                        "shoppers see the approved ones until then."
                    ),
                    "info",
                )
            else:
                flash(_("The shop's details have been saved."), "success")
            return redirect(url_for("shops.dashboard"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("shops/shop_form.html", form=form, shop=shop), status


@bp.post("/seller/shop/resubmit")
@login_required
def resubmit_shop() -> ResponseReturnValue:
    shop = services.shop_of(acting.seller())
    if shop is None:
        abort(404)
    try:
        services.resubmit_shop(shop)
    except services.ShopError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Your shop has been sent for review again."), "success")
    return redirect(url_for("shops.dashboard"))


@bp.route("/seller/shop/selling", methods=["GET", "POST"])
@login_required
def selling() -> ResponseReturnValue:
    """The shop's shipping fee and the bank account shoppers transfer to (VietQR)."""
    shop = services.shop_of(acting.seller())
    if shop is None:
        return redirect(url_for("shops.open_shop"))
    form = SellingForm(obj=shop)
    if form.validate_on_submit():
        try:
            services.set_selling(
                shop,
                services.Selling(
                    shipping_fee_vnd=form.shipping_fee_vnd.data or 0,
                    free_shipping_from_vnd=form.free_shipping_from_vnd.data,
                    bank_bin=form.bank_bin.data or None,
                    bank_account_number=form.bank_account_number.data,
                    bank_account_name=form.bank_account_name.data,
                ),
            )
        except services.InvalidSelling as error:
            db.session.rollback()
            getattr(form, error.field).errors = [str(error)]
        else:
            db.session.commit()
            flash(_("Shipping and payment saved."), "success")
            return redirect(url_for("shops.dashboard"))
    status = 400 if form.errors else 200
    return render_template("shops/selling.html", form=form, shop=shop), status


@bp.get("/seller")
@login_required
def dashboard() -> ResponseReturnValue:
    shop = services.shop_of(acting.seller())
    if shop is None:
        return render_template("shops/dashboard.html", shop=None, products=[], revisions={})
    page = catalog_queries.seller_products(
        shop, page=clamp_page(request.args.get("page")), per_page=DASHBOARD_PAGE_SIZE
    )
    return render_template(
        "shops/dashboard.html",
        shop=shop,
        page=page,
        products=page.items,
        revisions=catalog_queries.revisions_by_product(page.items),
        decisions=moderation.decisions_for_shop(shop),
        shop_revision=services.latest_shop_revision(shop),
        channels=standing.shop_channels(shop),
        on_channels=standing.listings_on_channels(shop, page.items),
        orders_waiting=orders.waiting_count(shop),
    )


@bp.get("/shops/<id:shop_id>/registration-document")
@login_required
def registration_document(shop_id: int) -> ResponseReturnValue:
    shop = db.session.get(Shop, shop_id)
    if (
        shop is None
        or shop.registration_document is None
        or not services.can_see_registration_document(shop, current_user)
    ):
        abort(404)
    return media.private_download(shop.registration_document)


@bp.get("/places/communes")
def communes() -> ResponseReturnValue:
    """The communes of a province, for the shop form's script."""
    try:
        code = parse_whole_number(request.args.get("province", ""))
    except NumberFormatError:
        code = 0
    if places.province(code) is None:
        return jsonify(
            {"error": {"code": "unknown_province", "message": _("Choose a province.")}}
        ), 400
    return jsonify([{"code": c.code, "name": c.name} for c in places.communes(code)])


@bp.get("/quy-dinh")
def rules() -> ResponseReturnValue:
    return render_template("shops/rules.html", version=RULES_VERSION)


@bp.get("/gian-hang/<slug>")
@cached_page
def storefront(slug: str) -> ResponseReturnValue:
    shop = catalog_queries.public_shop(slug)
    sort = catalog_queries.parse_sort(request.args.get("sort"))
    page = catalog_queries.products_of_shop(
        shop, sort=sort, page=clamp_page(request.args.get("page")), per_page=STOREFRONT_PAGE_SIZE
    )
    address = places.format_address(shop.street, shop.commune_code, shop.province_code)
    return render_template(
        "shops/storefront.html", shop=shop, page=page, sort=sort, address=address
    )
