import pytest
from sqlalchemy import select

from marketplace.catalog import queries, services
from marketplace.catalog.models import Category, ProductStatus, RevisionStatus
from marketplace.core.errors import NotFound
from marketplace.extensions import db
from marketplace.shops import services as shops
from marketplace.shops.models import ShopStatus
from tests.factories import (
    leaf_category,
    make_image,
    make_product,
    make_shop,
    make_user,
    product_input,
)


def public_ids() -> set[int]:
    return set(db.session.scalars(select(queries.public_products().subquery().c.id)))


def test_a_new_listing_is_a_draft_with_rendered_description(app):
    shop = make_shop()

    product = services.create_product(shop, product_input(), [make_image()])
    db.session.commit()

    assert product.status == ProductStatus.DRAFT
    assert product.slug == "kho-ca-loc-dong-1-nang"
    assert "<strong>U Minh</strong>" in product.description_html
    assert len(product.images) == 1
    assert product.id not in public_ids()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price_vnd": 0}, "price_vnd"),
        ({"price_vnd": -5}, "price_vnd"),
        ({"price_vnd": 1_000_000_001}, "price_vnd"),
        ({"compare_at_price_vnd": 450_000}, "compare_at_price_vnd"),
        ({"compare_at_price_vnd": 100_000}, "compare_at_price_vnd"),
        ({"stock": -1}, "stock"),
        ({"unit": "tấn"}, "unit"),
        ({"weight_grams": 0}, "weight_grams"),
        ({"name": "  "}, "name"),
        ({"ocop_stars": 2}, "ocop_stars"),
        ({"ocop_stars": 4}, "ocop_certificate_no"),
        ({"ocop_stars": 4, "ocop_certificate_no": "123/QĐ-UBND"}, "ocop_year"),
        (
            {"ocop_stars": 4, "ocop_certificate_no": "123/QĐ-UBND", "ocop_year": 2024},
            "ocop_level",
        ),
        ({"gtin": "8934567890123"}, "gtin"),
        ({"traceability_url": "javascript:alert(1)"}, "traceability_url"),
        ({"traceability_url": "ftp://example.vn/a"}, "traceability_url"),
        ({"description_md": "x" * 5001}, "description_md"),
        ({"name": "\u200b\u200c\u200d"}, "name"),
        ({"name": "\u0301\u0309"}, "name"),
        ({"traceability_url": "http://["}, "traceability_url"),
        ({"traceability_url": "https://[::1"}, "traceability_url"),
    ],
)
def test_invalid_fields_are_refused_with_the_field_named(app, fields, field):
    shop = make_shop()

    with pytest.raises(services.InvalidProduct) as refused:
        services.create_product(shop, product_input(**fields), [])

    assert refused.value.field == field


def test_the_price_bounds_are_inclusive(app):
    product = make_product(price_vnd=1_000_000_000, status=ProductStatus.DRAFT)
    cheap = make_product(price_vnd=1, status=ProductStatus.DRAFT, shop=product.shop)

    assert (product.price_vnd, cheap.price_vnd) == (1_000_000_000, 1)


def test_a_listing_must_go_in_a_leaf_category(app):
    top = leaf_category().parent

    with pytest.raises(services.InvalidProduct):
        services.create_product(make_shop(), product_input(category=top), [])


def test_ocop_fields_are_kept_together_and_cleared_without_stars(app):
    product = make_product(
        status=ProductStatus.DRAFT,
        ocop_stars=4,
        ocop_certificate_no="123/QĐ-UBND",
        ocop_year=2024,
        ocop_level="province",
    )
    assert (product.ocop_stars, product.ocop_level) == (4, "province")

    services.update_product(
        product, product_input(ocop_stars=None, ocop_year=2024), [], author=product.shop.owner
    )

    assert product.ocop_certificate_no is None and product.ocop_year is None


def test_a_valid_gtin_is_accepted():
    assert services.is_valid_gtin("8934567890120")
    assert services.is_valid_gtin("96385074")
    assert not services.is_valid_gtin("8934567890123")


def test_descriptions_are_sanitised(app):
    hostile = (
        '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)">'
        ' <a href="https://e.vn" onclick="alert(1)">a</a> [ok](https://camau.gov.vn)'
    )

    product = make_product(description_md=hostile)

    html = product.description_html
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert html.count("<a ") == 1  # only the safe link is a link; the rest is shown as text
    assert '<a href="https://camau.gov.vn" rel="nofollow noopener ugc">ok</a>' in html


def test_at_most_eight_pictures(app):
    images = [make_image((i * 20, 100, 100)) for i in range(9)]

    with pytest.raises(services.InvalidProduct):
        services.create_product(make_shop(), product_input(), images)


def test_submitting_sends_to_review_or_publishes_for_a_trusted_shop(app):
    normal = make_product(status=ProductStatus.DRAFT)
    trusted = make_product(
        status=ProductStatus.DRAFT, shop=make_shop(name="HTX Mật ong", trusted=True)
    )

    services.submit_product(normal)
    services.submit_product(trusted)

    assert normal.status == ProductStatus.PENDING
    assert trusted.status == ProductStatus.PUBLISHED
    assert trusted.published_at is not None


def test_a_trusted_but_pending_shop_still_waits_for_review(app):
    shop = make_shop(status=ShopStatus.PENDING, trusted=True)
    product = make_product(shop=shop, status=ProductStatus.DRAFT)

    services.submit_product(product)

    assert product.status == ProductStatus.PENDING


def test_review_decisions(app):
    product = make_product(status=ProductStatus.PENDING)

    services.reject_product(product, reason="Ảnh mờ")
    assert (product.status, product.status_reason) == (ProductStatus.REJECTED, "Ảnh mờ")
    services.submit_product(product)
    services.approve_product(product)
    assert product.status == ProductStatus.PUBLISHED and product.status_reason is None
    with pytest.raises(services.InvalidTransition):
        services.approve_product(product)


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (ProductStatus.DRAFT, services.approve_product),
        (ProductStatus.DRAFT, services.unpublish_product),
        (ProductStatus.PENDING, services.unpublish_product),
        (ProductStatus.PUBLISHED, services.approve_product),
        (ProductStatus.HIDDEN, services.unpublish_product),
        (ProductStatus.REJECTED, services.unhide_product),
    ],
)
def test_forbidden_transitions_raise(app, start, action):
    product = make_product(status=start)

    with pytest.raises(services.InvalidTransition):
        action(product)


def test_a_deleted_listing_cannot_come_back(app):
    product = make_product()
    services.delete_product(product)

    with pytest.raises(services.InvalidTransition):
        services.submit_product(product)
    assert product.id not in public_ids()


def test_unpublish_and_hide_take_the_listing_off_the_site(app):
    unpublished, hidden = make_product(), make_product(name="Tôm khô Rạch Gốc")

    services.unpublish_product(unpublished)
    services.hide_product(hidden, reason="Báo cáo hàng giả")

    assert public_ids().isdisjoint({unpublished.id, hidden.id})
    services.unhide_product(hidden)
    assert hidden.id in public_ids()


@pytest.mark.parametrize(
    "shop_status", [ShopStatus.PENDING, ShopStatus.REJECTED, ShopStatus.SUSPENDED]
)
def test_only_listings_of_approved_shops_are_public(app, shop_status):
    shop = make_shop(status=shop_status)
    product = make_product(shop=shop, status=ProductStatus.DRAFT)
    product.status = ProductStatus.PUBLISHED  # as if published before the shop changed

    assert product.id not in public_ids()
    with pytest.raises(NotFound):
        queries.public_product(product.id)


def test_price_and_stock_edits_apply_at_once_even_when_content_waits(app):
    product = make_product(price_vnd=450_000, stock=20)
    owner = product.shop.owner

    outcome = services.update_product(
        product,
        product_input(name="Khô cá lóc loại đặc biệt", price_vnd=480_000, stock=5),
        [],
        author=owner,
    )
    db.session.commit()

    assert outcome == services.UpdateOutcome.STAGED
    assert (product.price_vnd, product.stock) == (480_000, 5)
    assert product.name == "Khô cá lóc đồng 1 nắng"  # the live version stays
    assert services.pending_revision(product).content["name"] == "Khô cá lóc loại đặc biệt"


def test_approving_a_staged_edit_swaps_it_in(app):
    old_image, new_image = make_image((10, 10, 10)), make_image((250, 250, 250))
    product = make_product(images=[old_image])
    services.update_product(
        product,
        product_input(name="Khô cá lóc loại đặc biệt", description_md="Mới"),
        [new_image, old_image],
        author=product.shop.owner,
    )
    revision = services.pending_revision(product)

    services.approve_revision(revision)
    db.session.commit()

    assert product.name == "Khô cá lóc loại đặc biệt"
    assert product.description_html == "<p>Mới</p>\n"
    assert [item.image for item in product.images] == [new_image, old_image]
    assert revision.status == RevisionStatus.APPROVED
    with pytest.raises(services.InvalidTransition):
        services.approve_revision(revision)


def test_rejecting_a_staged_edit_keeps_the_live_version_and_says_why(app):
    product = make_product()
    services.update_product(
        product, product_input(name="Tên gây hiểu nhầm"), [], author=product.shop.owner
    )
    revision = services.pending_revision(product)

    services.reject_revision(revision, reason="Tên không đúng sản phẩm")

    assert product.name == "Khô cá lóc đồng 1 nắng"
    assert queries.revisions_by_product([product])[product.id].reason == "Tên không đúng sản phẩm"


def test_a_new_staged_edit_replaces_the_one_waiting(app):
    product = make_product()
    owner = product.shop.owner
    services.update_product(product, product_input(name="Bản sửa 1"), [], author=owner)
    first = services.pending_revision(product)

    services.update_product(product, product_input(name="Bản sửa 2"), [], author=owner)

    assert first.status == RevisionStatus.SUPERSEDED
    assert services.pending_revision(product).content["name"] == "Bản sửa 2"


def test_trusted_shops_and_unpublished_listings_edit_directly(app):
    trusted = make_product(shop=make_shop(name="HTX", trusted=True))
    draft = make_product(status=ProductStatus.DRAFT)

    for product in (trusted, draft):
        outcome = services.update_product(
            product, product_input(name="Tên mới"), [], author=product.shop.owner
        )
        assert outcome == services.UpdateOutcome.APPLIED
        assert product.name == "Tên mới"


def test_quick_edit_changes_price_and_stock_and_drops_a_false_discount(app):
    product = make_product(price_vnd=450_000, compare_at_price_vnd=500_000)

    services.set_price_and_stock(product, price_vnd=520_000, stock=3)

    assert (product.price_vnd, product.stock, product.compare_at_price_vnd) == (520_000, 3, None)
    with pytest.raises(services.InvalidProduct):
        services.set_price_and_stock(product, price_vnd=0, stock=3)
    with pytest.raises(services.InvalidProduct):
        services.set_price_and_stock(product, price_vnd=1000, stock=-1)


def test_duplicate_makes_a_draft_copy_with_the_same_pictures(app):
    image = make_image()
    product = make_product(
        images=[image],
        ocop_stars=3,
        ocop_certificate_no="9/QĐ",
        ocop_year=2023,
        ocop_level="province",
    )

    copy = services.duplicate_product(product)

    assert copy.id != product.id
    assert copy.status == ProductStatus.DRAFT
    assert copy.name == "Khô cá lóc đồng 1 nắng (bản sao)"
    assert [item.image for item in copy.images] == [image]
    assert copy.ocop_stars == 3


def test_owned_product_is_not_found_for_anyone_else(app):
    product = make_product()

    assert queries.owned_product(product.id, product.shop.owner) is product
    with pytest.raises(NotFound):
        queries.owned_product(product.id, make_user())


def test_default_categories_form_a_two_level_tree_and_seed_once(app):
    added = services.ensure_default_categories()

    assert added > 30
    assert services.ensure_default_categories() == 0
    tops = queries.category_tree()
    assert len(tops) >= 8
    assert all(child.parent_id == top.id for top in tops for child in top.children)
    assert db.session.scalar(select(Category).where(Category.slug == "kho-ca")) is not None


def test_category_listing_includes_descendants(app):
    leaf = leaf_category("kho-ca")
    product = make_product(category=leaf)

    page = queries.products_in_category(leaf.parent, sort=queries.Sort.NEWEST, page=1, per_page=10)

    assert [p.id for p in page.items] == [product.id]


def test_suspending_a_shop_hides_its_listings_and_reinstating_restores_them(app):
    product = make_product()

    shops.suspend_shop(product.shop, reason="Vi phạm")
    assert product.id not in public_ids()
    shops.reinstate_shop(product.shop)
    assert product.id in public_ids()


def test_a_staged_edit_dies_with_the_live_version_it_was_made_for(app):
    product = make_product()
    owner = product.shop.owner
    services.update_product(product, product_input(name="Tên B"), [], author=owner)
    revision = services.pending_revision(product)

    services.unpublish_product(product)
    services.update_product(product, product_input(name="Tên C"), [], author=owner)

    assert revision.status == RevisionStatus.SUPERSEDED
    with pytest.raises(services.InvalidTransition):
        services.approve_revision(revision)
    assert product.name == "Tên C"


def test_sending_back_the_live_content_withdraws_the_waiting_edit(app):
    product = make_product()
    owner = product.shop.owner
    services.update_product(product, product_input(name="Tên B"), [], author=owner)

    outcome = services.update_product(product, product_input(), [], author=owner)

    assert outcome == services.UpdateOutcome.APPLIED
    assert services.pending_revision(product) is None


def test_a_rejected_listing_of_a_trusted_shop_goes_back_to_review(app):
    product = make_product(shop=make_shop(trusted=True), status=ProductStatus.REJECTED)

    services.submit_product(product)

    assert product.status == ProductStatus.PENDING


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (ProductStatus.DRAFT, {"submit", "duplicate", "delete"}),
        (ProductStatus.PENDING, {"duplicate", "delete"}),
        (ProductStatus.PUBLISHED, {"unpublish", "duplicate", "delete"}),
        (ProductStatus.REJECTED, {"submit", "duplicate", "delete"}),
        (ProductStatus.HIDDEN, {"delete"}),
    ],
)
def test_allowed_actions_follow_the_state(app, status, actions):
    assert services.allowed_actions(make_product(status=status)) == actions


def test_only_one_edit_can_wait_per_listing(app):
    from sqlalchemy.exc import IntegrityError

    from marketplace.catalog.models import ProductRevision

    product = make_product()
    owner = product.shop.owner
    services.update_product(product, product_input(name="Tên B"), [], author=owner)
    db.session.commit()

    db.session.add(ProductRevision(product=product, author=owner, content={"name": "x"}))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
