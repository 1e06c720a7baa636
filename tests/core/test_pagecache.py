"""Public pages are cached for visitors, never show what the catalog has hidden, and are
invalidated only where a change shows (a sale leaves the lists cached)."""

from dataclasses import replace

import pytest
from flask import render_template_string
from sqlalchemy import event, select

from marketplace.catalog import services as catalog
from marketplace.catalog import stock
from marketplace.catalog.models import Category, Product, product_tag
from marketplace.core import pagecache
from marketplace.core.pagecache import cached_page, generation
from marketplace.extensions import db
from marketplace.shops import services as shops
from tests.conftest import csrf_token_from, make_test_config, submit_form
from tests.factories import (
    DEFAULT_PASSWORD,
    leaf_category,
    log_in,
    make_image,
    make_product,
    make_shop,
)

ROOT = "kho-dac-san-che-bien"  # the parent of the factories' default leaf, kho-ca


def statements_during(client, path):
    seen = []

    def count(*args):
        if args[2] != "BEGIN":  # SQLite's explicit transaction start is not a query
            seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


def visit(client, path):
    """GET ``path``; return whether it came from the cache ("hit"/"miss") and its text."""
    response = client.get(path)
    assert response.status_code == 200, path
    return response.headers["X-Cache"], response.get_data(as_text=True)


def page_of(product):
    return f"/san-pham/{product.id}/{product.slug}"


def public_pages(product):
    return [
        "/",
        f"/danh-muc/{product.category.slug}",
        f"/danh-muc/{ROOT}",
        f"/gian-hang/{product.shop.slug}",
        page_of(product),
    ]


def warm(client, paths):
    for path in paths:
        visit(client, path)
        assert visit(client, path)[0] == "hit", path


def test_a_second_visit_is_served_from_the_cache(client):
    product = make_product()
    path = page_of(product)

    first, first_html = statements_during(client, path)
    second, second_html = statements_during(client, path)

    assert len(first) > 2
    assert len(second) == 1  # the generations of the page's tags, in one query
    assert second_html == first_html
    assert client.get(path).headers["X-Cache"] == "hit"


def test_a_cached_list_checks_its_cards_in_one_query(client):
    shop = make_shop()
    for index in range(5):
        make_product(shop=shop, name=f"Khô cá số {index}")

    for path in ("/", f"/danh-muc/{ROOT}", f"/gian-hang/{shop.slug}"):
        statements_during(client, path)
        second, _html = statements_during(client, path)
        assert len(second) == 1, path


def test_a_sale_that_leaves_stock_rerenders_only_the_listings_page(client):
    product = make_product(stock=10)
    other = make_product(name="Tôm khô Rạch Gốc", stock=5)
    warm(client, [*public_pages(product), page_of(other)])

    stock.take_stock(db.session, {product.id: 1})
    db.session.commit()

    cache, html = visit(client, page_of(product))
    assert cache == "miss"
    assert "Còn hàng: 9 kg" in html
    for path in ["/", f"/danh-muc/{product.category.slug}", f"/danh-muc/{ROOT}",
                 f"/gian-hang/{product.shop.slug}", page_of(other)]:  # fmt: skip
        assert visit(client, path)[0] == "hit", path


def test_selling_the_last_unit_rerenders_the_lists_that_show_the_card(client):
    product = make_product(stock=1)
    warm(client, public_pages(product))

    stock.take_stock(db.session, {product.id: 1})
    db.session.commit()

    for path in public_pages(product):
        cache, html = visit(client, path)
        assert cache == "miss", path
        assert "Hết hàng" in html, path

    stock.return_stock(db.session, {product.id: 2})  # a cancelled order gives two back
    db.session.commit()

    for path in public_pages(product):
        cache, html = visit(client, path)
        assert cache == "miss", path
        assert "Hết hàng" not in html, path


def test_a_sale_of_a_listing_on_no_list_page_leaves_those_lists_cached(client):
    shop = make_shop()
    shown = make_product(shop=shop, name="Mật ong U Minh", stock=3)
    old = make_product(shop=shop, name="Khô cá sặc", stock=1)
    db.session.execute(  # older than the 12 newest of the home page
        Product.__table__.update()
        .where(Product.id == old.id)
        .values(published_at=shown.published_at.replace(year=2020))
    )
    for index in range(12):
        make_product(shop=shop, name=f"Cá khô số {index}")
    db.session.commit()
    warm(client, ["/"])
    assert "Khô cá sặc" not in visit(client, "/")[1]

    stock.take_stock(db.session, {old.id: 1})  # sold out, but not shown on the home page
    db.session.commit()

    assert visit(client, "/")[0] == "hit"
    assert "Hết hàng" in visit(client, page_of(old))[1]


def test_a_price_edit_rerenders_the_pages_that_show_the_listing(client, app):
    product = make_product(price_vnd=450_000)
    other = make_product(
        name="Tôm khô Rạch Gốc", category=leaf_category("tom-kho"), price_vnd=120_000
    )
    warm(client, [*public_pages(product), page_of(other), "/danh-muc/tom-kho"])

    seller = app.test_client()
    log_in(seller, product.shop.owner)
    token = csrf_token_from(seller.get("/seller").get_data(as_text=True))
    seller.post(
        f"/seller/products/{product.id}/quick",
        data={"csrf_token": token, "price_vnd": "399.000", "stock": "20"},
    )

    for path in public_pages(product):
        cache, html = visit(client, path)
        assert cache == "miss", path
        assert "399.000" in html and "450.000" not in html, path
    assert visit(client, page_of(other))[0] == "hit"
    assert visit(client, "/danh-muc/tom-kho")[0] == "hit"


def test_a_name_edit_by_a_trusted_shop_rerenders_its_pages(client):
    product = make_product(shop=make_shop(trusted=True))
    warm(client, public_pages(product))

    data = replace(catalog.input_of(product), name="Khô cá lóc loại đặc biệt")
    assert (
        catalog.update_product(product, data, [], author=product.shop.owner)
        == catalog.UpdateOutcome.APPLIED
    )
    db.session.commit()

    for path in [*public_pages(product)[:4], page_of(product)]:
        response = client.get(path, follow_redirects=True)
        assert "Khô cá lóc loại đặc biệt" in response.get_data(as_text=True), path


def test_a_new_picture_changes_the_card_and_the_page(client):
    product = make_product(shop=make_shop(trusted=True))
    warm(client, public_pages(product))

    catalog.update_product(
        product, catalog.input_of(product), [make_image()], author=product.shop.owner
    )
    db.session.commit()

    cover = product.images[0].image.sha256
    for path in public_pages(product):
        assert cover in visit(client, path)[1], path


def test_hiding_a_listing_removes_it_from_every_cached_page(client):
    product = make_product()
    warm(client, public_pages(product))
    before = generation()

    catalog.hide_product(product, reason="Hàng giả")
    db.session.commit()

    assert generation() == before  # not a sweeping change
    for path in public_pages(product)[:4]:
        cache, html = visit(client, path)
        assert cache == "miss", path
        assert product.name not in html, path
    assert client.get(page_of(product)).status_code == 404


def test_suspending_a_shop_removes_it_from_every_cached_page(client):
    product = make_product()
    elsewhere = make_product(name="Tôm khô Rạch Gốc", shop=make_shop(name="Tôm Khô Năm Căn"))
    warm(client, [*public_pages(product), page_of(elsewhere)])

    shops.suspend_shop(product.shop, reason="Vi phạm")
    db.session.commit()

    for path in public_pages(product)[:3]:
        cache, html = visit(client, path)
        assert cache == "miss", path
        assert product.name not in html and "Khô Cá Lóc Út Hiền" not in html, path
        assert elsewhere.name in html, path
    assert client.get(f"/gian-hang/{product.shop.slug}").status_code == 404
    assert client.get(page_of(product)).status_code == 404
    assert visit(client, page_of(elsewhere))[0] == "hit"


def test_a_shop_rename_shows_on_its_cards_and_listing_pages(client):
    product = make_product()
    warm(client, public_pages(product))

    product.shop.name = "Khô Cá Lóc Bà Tư"  # as an approved revision would
    db.session.commit()

    for path in public_pages(product):
        assert "Khô Cá Lóc Bà Tư" in visit(client, path)[1], path


def test_a_new_listing_appears_on_the_lists_at_once(client):
    product = make_product()
    warm(client, public_pages(product))

    make_product(shop=product.shop, name="Ba khía muối Rạch Gốc")

    for path in public_pages(product)[:4]:
        cache, html = visit(client, path)
        assert cache == "miss", path
        assert "Ba khía muối Rạch Gốc" in html, path
    assert "2 sản phẩm" in visit(client, f"/danh-muc/{ROOT}")[1]
    assert visit(client, page_of(product))[0] == "hit"


def test_moving_a_listing_rerenders_both_categories(client):
    product = make_product()
    warm(client, [f"/danh-muc/{product.category.slug}", "/danh-muc/tom-kho"])

    data = replace(catalog.input_of(product), category_id=leaf_category("tom-kho").id)
    product.shop.trusted = True
    catalog.update_product(product, data, [], author=product.shop.owner)
    db.session.commit()

    assert product.name not in visit(client, "/danh-muc/kho-ca")[1]
    assert product.name in visit(client, "/danh-muc/tom-kho")[1]


def test_a_category_tree_change_invalidates_everything(client):
    product = make_product()
    warm(client, public_pages(product))
    before = generation()

    category = db.session.scalar(select(Category).where(Category.slug == ROOT))
    category.name_vi = "Khô & mắm Cà Mau"
    db.session.commit()

    assert generation() == before + 1
    for path in public_pages(product):
        assert visit(client, path)[0] == "miss", path
    assert "Khô &amp; mắm Cà Mau" in visit(client, f"/danh-muc/{ROOT}")[1]


def test_invalidate_bumps_the_given_tags_at_commit(client):
    product = make_product()
    warm(client, public_pages(product))

    pagecache.invalidate(db.session, product_tag(product.id))
    assert visit(client, page_of(product))[0] == "hit"  # not before the commit
    db.session.commit()

    assert visit(client, page_of(product))[0] == "miss"
    assert visit(client, f"/danh-muc/{ROOT}")[0] == "hit"


def test_a_rolled_back_change_bumps_nothing(client):
    product = make_product()
    warm(client, public_pages(product))

    catalog.hide_product(product, reason="Hàng giả")
    db.session.rollback()

    for path in public_pages(product):
        assert visit(client, path)[0] == "hit", path


@pytest.mark.parametrize("change", ["sale", "last unit", "hide"])
def test_a_change_made_by_another_worker_reaches_this_ones_cache(
    client, build_app, tmp_path, database_url, change
):
    product = make_product(stock=1 if change == "last unit" else 5)
    warm(client, public_pages(product))
    other_worker = build_app(make_test_config(tmp_path, database_url))  # its own cache

    with other_worker.app_context():
        mine = db.session.get(Product, product.id)
        if change == "hide":
            catalog.hide_product(mine, reason="Hàng giả")
        else:
            stock.take_stock(db.session, {product.id: 1})
        db.session.commit()
    db.session.expire_all()

    if change == "hide":
        assert client.get(page_of(product)).status_code == 404
        lists_hit = False
    else:
        cache, html = visit(client, page_of(product))
        assert cache == "miss"
        assert ("Hết hàng" if change == "last unit" else "Còn hàng: 4 kg") in html
        lists_hit = change == "sale"
    for path in public_pages(product)[:4]:
        cache, html = visit(client, path)
        assert (cache == "hit") == lists_hit, path
        assert (product.name in html) == (change != "hide"), path


def test_a_category_count_follows_its_listings(client):
    product = make_product()
    assert "1 sản phẩm" in visit(client, f"/danh-muc/{ROOT}")[1]

    make_product(shop=product.shop, name="Khô cá sặc")
    assert "2 sản phẩm" in visit(client, f"/danh-muc/{ROOT}")[1]

    catalog.unpublish_product(product)
    db.session.commit()
    assert "1 sản phẩm" in visit(client, f"/danh-muc/{ROOT}?sort=price_asc")[1]


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_SECONDS": 0}], indirect=True)
def test_with_the_cache_off_every_page_renders(client):
    product = make_product()

    for _ in range(2):
        cache, html = visit(client, f"/danh-muc/{ROOT}")
        assert cache == "miss"
        assert product.name in html


def test_a_page_with_a_form_token_is_never_stored(app, client):
    @cached_page
    def with_a_form():
        return render_template_string("<form><input value='{{ csrf_token() }}'></form>")

    app.add_url_rule("/thu-form", "with_a_form", with_a_form)
    # Flask-Login marks an anonymous session not fresh on each request, which sets the
    # cookie again and keeps the page out of the cache anyway: without it, only the
    # token itself tells that the page is this visitor's.
    app.config["SESSION_PROTECTION"] = None
    assert "Set-Cookie" in client.get("/thu-form").headers  # the token starts a session

    for _ in range(2):  # the same token again, without a cookie to set
        response = client.get("/thu-form")
        assert "Set-Cookie" not in response.headers
        assert response.headers["X-Cache"] == "miss"


def test_logged_in_members_get_their_own_page(client):
    product = make_product()
    path = page_of(product)
    client.get(path)  # cached for visitors
    owner = product.shop.owner
    submit_form(client, "/account/login", {"email": owner.email, "password": DEFAULT_PASSWORD})

    response = client.get(path)
    html = response.get_data(as_text=True)

    assert owner.full_name.split()[-1] in html
    assert "Đăng nhập" not in html.split("</header>")[0]
    assert "X-Cache" not in response.headers


def test_each_language_has_its_own_cached_page(client):
    make_product()
    vietnamese = client.get("/").get_data(as_text=True)

    client.get("/lang/en")
    english = client.get("/").get_data(as_text=True)

    assert "Danh mục" in vietnamese
    assert "Categories" in english


def test_pages_with_a_flashed_message_are_not_cached(client):
    make_shop()
    client.get("/")
    client.get("/account/login")
    client.post("/account/logout")  # no session: 400, nothing flashed
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Thông báo riêng")]

    html = client.get("/").get_data(as_text=True)

    assert "Thông báo riêng" in html
    assert "Thông báo riêng" not in client.get("/").get_data(as_text=True)
