"""Catalog pages: home, categories, product pages, and the seller's listing forms."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import quote

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import FileStorage

from marketplace.catalog import queries, services
from marketplace.catalog.forms import OCOP_LEVEL_LABELS, ActionForm, ProductForm, QuickEditForm
from marketplace.catalog.models import Product, ProductStatus, product_tag
from marketplace.core.errors import NotFound
from marketplace.core.markup import plain_text
from marketplace.core.numbers import NumberFormatError, parse_optional_number
from marketplace.core.pagecache import cached_page
from marketplace.core.pagination import clamp_page
from marketplace.core.security import external_url
from marketplace.extensions import db
from marketplace.media import services as media
from marketplace.media.models import Image
from marketplace.shops import acting, places
from marketplace.shops import services as shops
from marketplace.shops.models import Shop

bp = Blueprint("catalog", __name__)

CATEGORY_PAGE_SIZE = 24
HOME_NEWEST = 12
HOME_OCOP = 8


def _locale() -> str:
    return str(get_locale() or "vi")


@bp.get("/")
@cached_page
def home() -> ResponseReturnValue:
    return render_template(
        "catalog/home.html",
        categories=queries.top_categories(),
        newest=queries.newest_products(HOME_NEWEST),
        ocop=queries.ocop_products(HOME_OCOP),
    )


@bp.get("/danh-muc/<slug>")
@cached_page
def category(slug: str) -> ResponseReturnValue:
    category = queries.public_category(slug)
    sort = queries.parse_sort(request.args.get("sort"))
    page = queries.products_in_category(
        category, sort=sort, page=clamp_page(request.args.get("page")), per_page=CATEGORY_PAGE_SIZE
    )
    return render_template("catalog/category.html", category=category, page=page, sort=sort)


def _product_tags(product_id: int, **_args: object) -> list[str]:
    return [product_tag(product_id)]


@bp.get("/san-pham/<id:product_id>")
@bp.get("/san-pham/<id:product_id>/<slug>")
@cached_page(depends=_product_tags)
def product_detail(product_id: int, slug: str | None = None) -> ResponseReturnValue:
    product = queries.public_product(product_id)
    if slug != product.slug:
        # One address per listing: old or missing slugs redirect to the canonical one.
        return redirect(_product_url(product), code=301)
    canonical_url = external_url("catalog.product_detail", product_id=product.id, slug=product.slug)
    shop = product.shop
    return render_template(
        "catalog/product_detail.html",
        product=product,
        canonical_url=canonical_url,
        json_ld=product_json_ld(product, canonical_url),
        description=plain_text(product.description_html)[:160] or product.name,
        ocop_level_label=OCOP_LEVEL_LABELS.get(product.ocop_level, "")
        if product.ocop_level
        else "",
        shop_address=places.format_address(shop.street, shop.commune_code, shop.province_code),
    )


def product_json_ld(product: Product, url: str) -> dict[str, object]:
    """schema.org Product data, for search engines' rich results."""
    site = current_app.config["SITE_URL"]
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "url": url,
        "description": plain_text(product.description_html)[:500],
        "category": product.category.name_vi,
        "brand": {"@type": "Brand", "name": product.shop.name},
        "offers": {
            "@type": "Offer",
            "price": product.price_vnd,
            "priceCurrency": "VND",
            "availability": "https://schema.org/InStock"
            if product.in_stock
            else "https://schema.org/OutOfStock",
            "url": url,
            "seller": {"@type": "Organization", "name": product.shop.name},
        },
    }
    if product.images:
        data["image"] = [site + media.image_url(item.image, 1200) for item in product.images]
    if product.gtin:
        data["gtin"] = product.gtin
    if product.origin:
        data["countryOfOrigin"] = "VN"
    return data


def _product_url(product: Product) -> str:
    # url_for costs ~20 µs and a page of cards needs dozens: build the route's prefix once
    # per request (it honours the app's mount point) and append the id and the slug.
    prefix = g.get("_product_url_prefix")
    if prefix is None:
        prefix = g._product_url_prefix = url_for(
            "catalog.product_detail", product_id=1, slug="x"
        ).removesuffix("1/x")
    return f"{prefix}{product.id}/{quote(product.slug, safe='')}"


@bp.get("/san-pham/<id:product_id>/qr.<fmt>")
@cached_page(depends=_product_tags)
def product_qr(product_id: int, fmt: str) -> ResponseReturnValue:
    """A QR code of the listing's address, to print on packaging."""
    product = queries.public_product(product_id)
    if fmt not in {"svg", "png"}:
        raise NotFound(fmt)
    target = external_url("catalog.product_detail", product_id=product.id, slug=product.slug)
    qr = segno.make(target, error="m")
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.save(buffer, kind="svg", scale=4, border=2, title=product.name)
        mimetype = "image/svg+xml"
    else:
        qr.save(buffer, kind="png", scale=12, border=4)
        mimetype = "image/png"
    response = Response(buffer.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    if request.args.get("download"):
        filename = f"qr-{product.id}-{product.slug}.{fmt}"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# The seller's side. Every route finds the listing through queries.owned_product, so a
# listing of another shop is a 404, never a 403 that would confirm it exists.


def _seller_shop() -> Shop | None:
    shop = shops.shop_of(acting.seller())
    if shop is None:
        flash(_("Open your shop first."), "info")
    return shop


def _uploads(form: ProductForm) -> list[tuple[str, FileStorage]]:
    files = [f for f in (form.photos.data or []) if isinstance(f, FileStorage) and f.filename]
    return [(upload.filename or "", upload) for upload in files]


def _kept_images(images: list[Image]) -> list[Image]:
    """The pictures the form keeps, in the order the seller chose."""
    kept = []
    for index, image in enumerate(images):
        if request.form.get(f"remove_image_{image.id}"):
            continue
        try:
            chosen = parse_optional_number(request.form.get(f"image_position_{image.id}"))
        except NumberFormatError:
            chosen = None
        position = index + 1 if chosen is None else chosen
        kept.append((position, index, image))
    return [image for _position, _index, image in sorted(kept, key=lambda row: row[:2])]


def _show_error(form: ProductForm, error: Exception) -> None:
    field = getattr(error, "field", None)
    if isinstance(error, media.MediaError):
        field = "photos"
    if field and hasattr(form, field):
        getattr(form, field).errors.append(str(error))
    else:
        form.form_errors.append(str(error))


def _save_product(
    form: ProductForm, shop: Shop, product: Product | None, current_images: list[Image]
) -> Product | None:
    """Validate, store pictures, create or update; return the listing or None on error."""
    try:
        # Check the fields and the number of pictures first: nothing is converted or
        # stored for a form that will be refused.
        services.clean_input(form.to_input())
        kept, uploads = _kept_images(current_images), _uploads(form)
        services.check_image_count(len(kept) + len(uploads))
        images = kept + media.ingest_images([(name, upload.stream) for name, upload in uploads])
        if product is None:
            product = services.create_product(shop, form.to_input(), images)
            outcome = services.UpdateOutcome.APPLIED
        else:
            outcome = services.update_product(
                product, form.to_input(), images, author=acting.seller()
            )
        if "submit" in request.form and "submit" in services.allowed_actions(product):
            services.submit_product(product)
    except (services.CatalogError, media.MediaError) as error:
        db.session.rollback()
        _show_error(form, error)
        return None
    db.session.commit()
    if outcome == services.UpdateOutcome.STAGED:
        flash(
            _(
                "Your changes are waiting for review. The listing stays on the site as it "
                "was until they are approved; price and stock changed at once."
            ),
            "info",
        )
    elif product.status == ProductStatus.PENDING:
        flash(_("Saved and sent for review."), "success")
    elif product.status == ProductStatus.PUBLISHED:
        flash(_("Saved. The listing is on the site."), "success")
    else:
        flash(_("Saved as a draft."), "success")
    return product


@bp.route("/seller/products/new", methods=["GET", "POST"])
@login_required
def new_product() -> ResponseReturnValue:
    shop = _seller_shop()
    if shop is None:
        return redirect(url_for("shops.open_shop"))
    form = ProductForm()
    form.fill_category_choices(_locale())
    if form.validate_on_submit() and _save_product(form, shop, None, []) is not None:
        return redirect(url_for("shops.dashboard"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("catalog/product_form.html", form=form, product=None, images=[]), status


@bp.route("/seller/products/<id:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int) -> ResponseReturnValue:
    product = queries.owned_product(product_id, acting.seller())
    # A seller returning to a listing with an edit waiting continues from that edit.
    data, images = services.editable_content(product)
    form = ProductForm(obj=data)
    form.fill_category_choices(_locale())
    if form.validate_on_submit() and _save_product(form, product.shop, product, images) is not None:
        return redirect(url_for("shops.dashboard"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "catalog/product_form.html",
        form=form,
        product=product,
        images=images,
        revision=services.pending_revision(product),
    ), status


def _act(product_id: int, action: Callable[[Product], object], done: str) -> ResponseReturnValue:
    """Run one state change on an owned listing and go back to the dashboard."""
    product = queries.owned_product(product_id, acting.seller())
    if not ActionForm().validate_on_submit():
        flash(_("Your form expired. Please send it again."), "error")
        return redirect(url_for("shops.dashboard"))
    try:
        result = action(product)
    except services.CatalogError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(done, "success")
        if isinstance(result, Product):
            return redirect(url_for("catalog.edit_product", product_id=result.id))
    return redirect(url_for("shops.dashboard"))


@bp.post("/seller/products/<id:product_id>/submit")
@login_required
def submit_product(product_id: int) -> ResponseReturnValue:
    return _act(product_id, services.submit_product, _("The listing has been submitted."))


@bp.post("/seller/products/<id:product_id>/unpublish")
@login_required
def unpublish_product(product_id: int) -> ResponseReturnValue:
    return _act(product_id, services.unpublish_product, _("The listing is off the site."))


@bp.post("/seller/products/<id:product_id>/duplicate")
@login_required
def duplicate_product(product_id: int) -> ResponseReturnValue:
    return _act(
        product_id, services.duplicate_product, _("A draft copy has been made. Edit it below.")
    )


@bp.post("/seller/products/<id:product_id>/delete")
@login_required
def delete_product(product_id: int) -> ResponseReturnValue:
    return _act(product_id, services.delete_product, _("The listing has been deleted."))


@bp.post("/seller/products/<id:product_id>/quick")
@login_required
def quick_edit(product_id: int) -> ResponseReturnValue:
    product = queries.owned_product(product_id, acting.seller())
    form = QuickEditForm()
    if not form.validate_on_submit():
        errors = [message for messages in form.errors.values() for message in messages]
        flash(f"{product.name}: {' '.join(map(str, errors))}", "error")
        return redirect(url_for("shops.dashboard"))
    try:
        services.set_price_and_stock(
            product, price_vnd=form.price_vnd.data, stock=form.stock.data or 0
        )
    except services.CatalogError as error:
        db.session.rollback()
        flash(f"{product.name}: {error}", "error")
    else:
        db.session.commit()
        flash(_("%(name)s: price and stock saved.", name=product.name), "success")
    return redirect(url_for("shops.dashboard"))


@bp.app_template_global("image_url")
def image_url_global(image: Image, width: int = 600) -> str:
    return media.image_url(image, width)


@bp.app_template_global("product_url")
def product_url_global(product: Product) -> str:
    return _product_url(product)


@bp.app_template_global("allowed_actions")
def allowed_actions_global(product: Product) -> frozenset[str]:
    return services.allowed_actions(product)
