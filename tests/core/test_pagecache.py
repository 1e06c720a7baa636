"""Public pages are cached for visitors, and never show what the catalog has hidden."""

from sqlalchemy import event

from marketplace.catalog import services as catalog
from marketplace.core.pagecache import generation
from marketplace.extensions import db
from marketplace.shops import services as shops
from tests.conftest import submit_form
from tests.factories import DEFAULT_PASSWORD, make_product, make_shop


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


def test_a_second_visit_is_served_from_the_cache(client):
    product = make_product()
    path = f"/san-pham/{product.id}/{product.slug}"

    first, first_html = statements_during(client, path)
    second, second_html = statements_during(client, path)

    assert len(first) > 2
    assert len(second) == 1  # only the catalog generation is read
    assert second_html == first_html


def test_hiding_a_listing_removes_it_from_cached_pages_at_once(client):
    product = make_product()
    client.get("/")
    client.get(f"/danh-muc/{product.category.slug}")
    before = generation()

    catalog.hide_product(product, reason="Hàng giả")
    db.session.commit()

    assert generation() == before + 1
    assert product.name not in client.get("/").get_data(as_text=True)
    assert product.name not in client.get(f"/danh-muc/{product.category.slug}").get_data(
        as_text=True
    )
    assert client.get(f"/san-pham/{product.id}/{product.slug}").status_code == 404


def test_suspending_a_shop_removes_its_cached_storefront(client):
    product = make_product()
    assert client.get(f"/gian-hang/{product.shop.slug}").status_code == 200

    shops.suspend_shop(product.shop, reason="Vi phạm")
    db.session.commit()

    assert client.get(f"/gian-hang/{product.shop.slug}").status_code == 404


def test_logged_in_members_get_their_own_page(client):
    product = make_product()
    path = f"/san-pham/{product.id}/{product.slug}"
    client.get(path)  # cached for visitors
    owner = product.shop.owner
    submit_form(client, "/account/login", {"email": owner.email, "password": DEFAULT_PASSWORD})

    html = client.get(path).get_data(as_text=True)

    assert owner.full_name.split()[-1] in html
    assert "Đăng nhập" not in html.split("</header>")[0]


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
