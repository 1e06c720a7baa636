import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import event, func, select

from marketplace.catalog import services
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from tests.conftest import csrf_token_from, submit_form
from tests.factories import (
    leaf_category,
    log_in,
    make_image,
    make_product,
    make_shop,
)
from tests.media.pictures import png_header_only


def jpeg_upload(name="ca-loc.jpg", size=(800, 600)):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (180, 120, 60)).save(buffer, "JPEG")
    buffer.seek(0)
    return (buffer, name)


def product_form(**fields):
    data = {
        "name": "Tôm khô Rạch Gốc loại 1",
        "category_id": str(leaf_category("tom-kho").id),
        "price_vnd": "1.250.000",
        "compare_at_price_vnd": "",
        "stock": "12",
        "unit": "kg",
        "weight_grams": "1050",
        "description_md": "Tôm đất **Rạch Gốc**, phơi nắng tự nhiên.",
        "ocop_stars": "",
        "ocop_certificate_no": "",
        "ocop_year": "",
        "ocop_level": "",
        "origin": "Rạch Gốc, Ngọc Hiển",
        "gtin": "",
        "traceability_url": "",
    }
    data.update(fields)
    return data


def count_products():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Product))


class QueryCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        if args[2] != "BEGIN":  # SQLite's explicit transaction start is not a query
            self.count += 1


# --- Public pages -----------------------------------------------------------------


def test_product_page_shows_price_offer_ocop_shop_and_structured_data(client):
    product = make_product(
        price_vnd=150_000,
        compare_at_price_vnd=180_000,
        ocop_stars=4,
        ocop_certificate_no="123/QĐ-UBND",
        ocop_year=2024,
        ocop_level="province",
        images=[make_image()],
    )

    response = client.get(f"/san-pham/{product.id}/{product.slug}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "150.000\xa0₫" in html
    assert '<s class="compare-at">180.000\xa0₫</s>' in html
    assert "OCOP 4★" in html and "123/QĐ-UBND" in html
    assert product.shop.name in html
    assert 'property="og:title" content="Khô cá lóc đồng 1 nắng"' in html
    assert f"/san-pham/{product.id}/qr.png?download=1" in html
    data = json.loads(re.search(r'application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Product"
    assert data["offers"]["price"] == 150_000
    assert data["offers"]["priceCurrency"] == "VND"
    assert data["offers"]["availability"] == "https://schema.org/InStock"


def test_product_page_breadcrumbs_and_out_of_stock(client):
    product = make_product(stock=0)

    html = client.get(f"/san-pham/{product.id}/{product.slug}").get_data(as_text=True)

    assert "Hết hàng" in html
    assert f'href="/danh-muc/{product.category.slug}"' in html
    assert f'href="/danh-muc/{product.category.parent.slug}"' in html


def test_product_address_without_or_with_a_wrong_slug_redirects_to_the_canonical_one(client):
    product = make_product()

    for path in (f"/san-pham/{product.id}", f"/san-pham/{product.id}/ten-cu"):
        response = client.get(path)
        assert response.status_code == 301
        assert response.headers["Location"] == f"/san-pham/{product.id}/{product.slug}"


@pytest.mark.parametrize(
    "status",
    [ProductStatus.DRAFT, ProductStatus.PENDING, ProductStatus.REJECTED, ProductStatus.HIDDEN],
)
def test_listings_that_are_not_published_are_404(client, status):
    product = make_product(status=status)

    response = client.get(f"/san-pham/{product.id}/{product.slug}")

    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_listings_of_a_suspended_shop_are_404_everywhere(client):
    product = make_product()
    product.shop.status = "suspended"
    db.session.commit()

    assert client.get(f"/san-pham/{product.id}/{product.slug}").status_code == 404
    assert client.get(f"/gian-hang/{product.shop.slug}").status_code == 404
    assert product.name not in client.get("/").get_data(as_text=True)
    category_page = client.get(f"/danh-muc/{product.category.slug}").get_data(as_text=True)
    assert product.name not in category_page


def test_qr_code_links_to_the_listing_and_downloads_as_png(client, app):
    product = make_product()

    svg = client.get(f"/san-pham/{product.id}/qr.svg")
    png = client.get(f"/san-pham/{product.id}/qr.png?download=1")

    assert svg.mimetype == "image/svg+xml"
    assert png.mimetype == "image/png"
    assert "attachment" in png.headers["Content-Disposition"]
    assert PILImage.open(io.BytesIO(png.data)).size[0] > 200
    assert client.get(f"/san-pham/{product.id}/qr.gif").status_code == 404


def test_category_page_lists_descendants_sorted_and_paginated(client):
    shop = make_shop()
    prices = [300_000, 100_000, 200_000]
    for index, price in enumerate(prices):
        make_product(shop=shop, name=f"Khô cá số {index}", price_vnd=price)
    parent = leaf_category("kho-ca").parent

    html = client.get(f"/danh-muc/{parent.slug}?sort=price_asc").get_data(as_text=True)

    positions = [html.index(f"Khô cá số {i}") for i in (1, 2, 0)]
    assert positions == sorted(positions)
    assert "3 sản phẩm" in html


def test_category_pagination_and_odd_page_numbers(client, monkeypatch):
    from marketplace.catalog import views

    monkeypatch.setattr(views, "CATEGORY_PAGE_SIZE", 2)
    shop = make_shop()
    for index in range(5):
        make_product(shop=shop, name=f"Khô cá số {index}")

    first = client.get("/danh-muc/kho-ca").get_data(as_text=True)
    third = client.get("/danh-muc/kho-ca?page=3").get_data(as_text=True)

    assert "Trang 1 / 3" in first and 'rel="next"' in first
    assert "Khô cá số 0" in third and 'rel="next"' not in third
    for odd in ("abc", "-1", "99999999999"):
        assert client.get(f"/danh-muc/kho-ca?page={odd}&sort=bogus").status_code == 200


def test_unknown_category_and_shop_are_404(client):
    leaf_category()

    assert client.get("/danh-muc/khong-co").status_code == 404
    assert client.get("/gian-hang/khong-co").status_code == 404


def test_home_shows_categories_newest_and_ocop(client):
    make_product(
        name="Mật ong rừng U Minh",
        ocop_stars=4,
        ocop_certificate_no="1/QĐ",
        ocop_year=2024,
        ocop_level="province",
    )

    html = client.get("/").get_data(as_text=True)

    assert "Khô &amp; đặc sản chế biến" in html
    assert "Sản phẩm OCOP" in html
    assert "Mật ong rừng U Minh" in html


def test_storefront_shows_the_shops_listings_contact_and_address(client):
    product = make_product()

    html = client.get(f"/gian-hang/{product.shop.slug}").get_data(as_text=True)

    assert product.name in html
    assert "0912 345 678" in html
    assert "Cà Mau" in html


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/danh-muc/kho-dac-san-che-bien",
        "/danh-muc/kho-ca",
        "/gian-hang/{shop}",
        "/san-pham/{product}/{slug}",
    ],
)
def test_public_pages_use_a_bounded_number_of_queries(client, app, path):
    shop = make_shop()
    first = make_product(shop=shop, images=[make_image()])

    def queries_for_page():
        url = path.format(shop=shop.slug, product=first.id, slug=first.slug)
        app.extensions["marketplace.pagecache"].clear()  # a full render each time
        with QueryCounter(db.engine) as counter:
            assert client.get(url).status_code == 200
        return counter.count

    few = queries_for_page()
    for index in range(20):
        make_product(shop=shop, name=f"Khô cá {index}", images=[make_image((index, 9, 9))])
    services.update_product(  # the product page now has eight pictures instead of one
        first,
        services.input_of(first),
        [make_image((200, index, 9)) for index in range(8)],
        author=shop.owner,
    )
    shop.trusted = True
    db.session.commit()
    many = queries_for_page()

    assert many == few
    assert many <= 10


# --- The seller's listings ---------------------------------------------------------


def test_a_seller_lists_a_product_with_a_photo_and_submits_it(client):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(
        client,
        "/seller/products/new",
        {**product_form(), "photos": [jpeg_upload()], "submit": "1"},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert product.price_vnd == 1_250_000
    assert product.status == ProductStatus.PENDING
    assert len(product.images) == 1
    dashboard = client.get("/seller").get_data(as_text=True)
    assert "Tôm khô Rạch Gốc loại 1" in dashboard and "Chờ duyệt" in dashboard


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price_vnd": "0"}, "1 ₫"),
        ({"price_vnd": "abc"}, "số đồng chẵn"),
        ({"compare_at_price_vnd": "1.000.000"}, "giá trước khi giảm"),
        ({"stock": "-3"}, "âm"),
        ({"category_id": "999999"}, "Lựa chọn không hợp lệ"),
        ({"gtin": "123"}, "GTIN"),
    ],
)
def test_bad_listing_input_explains_and_writes_nothing(client, fields, message):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(client, "/seller/products/new", product_form(**fields))

    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    assert count_products() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "không phải ảnh JPEG, PNG"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "Ảnh bị hỏng"),
    ],
)
def test_a_bad_photo_saves_nothing(client, content, message):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(
        client,
        "/seller/products/new",
        {**product_form(), "photos": [jpeg_upload(), (io.BytesIO(content), "anh.jpg")]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "anh.jpg" in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert count_products() == 0


def test_six_one_pixel_wide_pngs_get_a_form_error_and_save_nothing(client, app):
    shop = make_shop()
    log_in(client, shop.owner)
    strip = png_header_only(1, 20_000_000)  # the shape that kept a worker busy for 31.7 s

    response = submit_form(
        client,
        "/seller/products/new",
        {**product_form(), "photos": [(io.BytesIO(strip), f"dai-{i}.png") for i in range(6)]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "dai-0.png" in html and "Kích thước ảnh này không dùng được" in html
    assert count_products() == 0
    assert not list(Path(app.config["MEDIA_DIR"]).rglob("*.webp"))


def test_pictures_over_the_request_budget_get_a_form_error(client):
    shop = make_shop()
    log_in(client, shop.owner)
    big = png_header_only(6324, 6324)  # 40 MP each: four are over the 120 MP budget

    response = submit_form(
        client,
        "/seller/products/new",
        {**product_form(), "photos": [(io.BytesIO(big), f"to-{i}.png") for i in range(4)]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "quá lớn để xử lý cùng lúc" in response.get_data(as_text=True)
    assert count_products() == 0


def test_a_name_typed_in_nfd_is_measured_and_stored_in_nfc(client):
    shop = make_shop()
    log_in(client, shop.owner)
    name = ("Mật ong rừng U Minh hạ nguyên chất " * 4)[:128].strip()
    decomposed = unicodedata.normalize("NFD", name)
    assert len(name) <= 150 < len(decomposed)

    response = submit_form(client, "/seller/products/new", product_form(name=decomposed))

    assert response.status_code == 302
    assert db.session.scalar(select(Product.name)) == name


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u0301\u0303", "\u200b \u0300 \ufeff"])
def test_a_name_that_shows_nothing_is_refused(client, name):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(client, "/seller/products/new", product_form(name=name))

    assert response.status_code == 400
    assert count_products() == 0


def test_editing_a_live_listing_stages_content_but_applies_price_now(client):
    product = make_product(price_vnd=450_000, images=[make_image()])
    log_in(client, product.shop.owner)

    response = submit_form(
        client,
        f"/seller/products/{product.id}/edit",
        product_form(
            name="Tên mới chờ duyệt", price_vnd="470.000", category_id=str(product.category_id)
        ),
    )

    assert response.status_code == 302
    db.session.refresh(product)
    assert product.price_vnd == 470_000
    assert product.name == "Khô cá lóc đồng 1 nắng"
    assert "Chỉnh sửa đang chờ duyệt" in client.get("/seller").get_data(as_text=True)


def test_pictures_are_reordered_and_removed_from_the_edit_form(client):
    first, second, third = (make_image((c, c, c)) for c in (10, 120, 240))
    product = make_product(status=ProductStatus.DRAFT, images=[first, second, third])
    log_in(client, product.shop.owner)

    submit_form(
        client,
        f"/seller/products/{product.id}/edit",
        {
            **product_form(category_id=str(product.category_id)),
            f"image_position_{first.id}": "3",
            f"image_position_{second.id}": "1",
            f"remove_image_{third.id}": "1",
        },
    )

    db.session.refresh(product)
    assert [item.image_id for item in product.images] == [second.id, first.id]


def test_quick_edit_sets_price_and_stock(client):
    product = make_product()
    log_in(client, product.shop.owner)

    token = csrf_token_from(client.get("/seller").get_data(as_text=True))
    client.post(
        f"/seller/products/{product.id}/quick",
        data={"csrf_token": token, "price_vnd": "399.000", "stock": "7"},
    )

    db.session.refresh(product)
    assert (product.price_vnd, product.stock) == (399_000, 7)


@pytest.mark.parametrize("price", ["150.000,00", "1,5", "150,000", "1.5", "²", "-150000"])
def test_a_price_written_another_way_is_refused_not_guessed(client, price):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(client, "/seller/products/new", product_form(price_vnd=price))

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "150000, 150.000 hoặc 150 000" in html or "không được âm" in html
    assert count_products() == 0


@pytest.mark.parametrize("price", ["150.000 ₫", "150 000", "150000"])
def test_a_price_written_as_vietnamese_write_it_is_saved(client, price):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(client, "/seller/products/new", product_form(price_vnd=price))

    assert response.status_code == 302
    assert db.session.scalar(select(Product.price_vnd)) == 150_000


def test_quick_edit_refuses_a_price_with_a_decimal_part(client):
    product = make_product()
    before = product.price_vnd
    log_in(client, product.shop.owner)

    token = csrf_token_from(client.get("/seller").get_data(as_text=True))
    response = client.post(
        f"/seller/products/{product.id}/quick",
        data={"csrf_token": token, "price_vnd": "150.000,00", "stock": "7"},
        follow_redirects=True,
    )

    assert "150000, 150.000 hoặc 150 000" in response.get_data(as_text=True)
    db.session.refresh(product)
    assert product.price_vnd == before


@pytest.mark.parametrize("url", ["http://[", "https://[::1", "https://example.vn:99999/"])
def test_a_broken_traceability_link_is_a_field_error(client, url):
    shop = make_shop()
    log_in(client, shop.owner)

    response = submit_form(client, "/seller/products/new", product_form(traceability_url=url))

    assert response.status_code == 400
    assert "địa chỉ web đầy đủ" in response.get_data(as_text=True)
    assert count_products() == 0


def test_the_dashboard_shows_why_a_listing_was_rejected(client):
    product = make_product(status=ProductStatus.REJECTED)
    log_in(client, product.shop.owner)

    html = client.get("/seller").get_data(as_text=True)

    assert "Ảnh không rõ" in html


def test_duplicate_unpublish_submit_and_delete_buttons(client):
    product = make_product()
    log_in(client, product.shop.owner)

    def press(action):
        token = csrf_token_from(client.get("/seller").get_data(as_text=True))
        return client.post(f"/seller/products/{product.id}/{action}", data={"csrf_token": token})

    assert press("duplicate").status_code == 302
    assert count_products() == 2
    press("unpublish")
    db.session.refresh(product)
    assert product.status == ProductStatus.DRAFT
    press("submit")
    db.session.refresh(product)
    assert product.status == ProductStatus.PENDING
    press("delete")
    db.session.refresh(product)
    assert product.status == ProductStatus.DELETED
    assert product.name not in client.get("/seller").get_data(as_text=True).split("bản sao")[-1]


WRITE_ROUTES = [
    ("GET", "/seller/products/{id}/edit"),
    ("POST", "/seller/products/{id}/edit"),
    ("POST", "/seller/products/{id}/submit"),
    ("POST", "/seller/products/{id}/unpublish"),
    ("POST", "/seller/products/{id}/duplicate"),
    ("POST", "/seller/products/{id}/delete"),
    ("POST", "/seller/products/{id}/quick"),
]


@pytest.mark.parametrize(("method", "route"), WRITE_ROUTES)
def test_another_seller_gets_404_on_every_listing_route(client, method, route):
    product = make_product()
    intruder_shop = make_shop(name="Gian hàng khác")
    log_in(client, intruder_shop.owner)
    token = csrf_token_from(client.get("/seller").get_data(as_text=True))
    before = (product.name, product.price_vnd, product.stock, product.status)

    response = client.open(
        route.format(id=product.id),
        method=method,
        data={"csrf_token": token, **product_form(price_vnd="1", stock="0")},
    )

    assert response.status_code == 404
    db.session.refresh(product)
    assert (product.name, product.price_vnd, product.stock, product.status) == before
    assert count_products() == 1


def test_seller_routes_send_visitors_to_log_in(client):
    product = make_product()
    token = csrf_token_from(client.get("/account/login").get_data(as_text=True))

    for method, route in WRITE_ROUTES:
        response = client.open(
            route.format(id=product.id), method=method, data={"csrf_token": token}
        )
        assert response.status_code == 302, route
        assert response.headers["Location"].startswith("/account/login")


def test_a_trusted_seller_cannot_put_back_a_hidden_listing(client):
    product = make_product(shop=make_shop(trusted=True), status=ProductStatus.HIDDEN)
    log_in(client, product.shop.owner)
    token = csrf_token_from(client.get("/seller").get_data(as_text=True))

    for action in ("submit", "duplicate"):
        client.post(f"/seller/products/{product.id}/{action}", data={"csrf_token": token})

    db.session.refresh(product)
    assert product.status == ProductStatus.HIDDEN
    assert count_products() == 1
    dashboard = client.get("/seller").get_data(as_text=True)
    assert f"/seller/products/{product.id}/submit" not in dashboard


def test_changing_only_the_price_keeps_the_edit_waiting_for_review(client):
    product = make_product(price_vnd=450_000)
    log_in(client, product.shop.owner)
    edit = product_form(name="Tên mới chờ duyệt", category_id=str(product.category_id))
    submit_form(client, f"/seller/products/{product.id}/edit", edit)

    page = client.get(f"/seller/products/{product.id}/edit").get_data(as_text=True)
    assert 'value="Tên mới chờ duyệt"' in page  # the form continues from the waiting edit
    submit_form(client, f"/seller/products/{product.id}/edit", {**edit, "price_vnd": "430.000"})

    db.session.refresh(product)
    assert product.price_vnd == 430_000
    assert services.pending_revision(product).content["name"] == "Tên mới chờ duyệt"


@pytest.mark.parametrize(
    "path",
    [
        "/san-pham/99999999999999999999",
        "/san-pham/2147483648/x",
        "/san-pham/99999999999999999999/qr.png",
        "/seller/products/99999999999999999999/edit",
        "/shops/99999999999999999999/registration-document",
    ],
)
def test_huge_ids_are_not_found(client, path):
    log_in(client, make_shop().owner)

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/danh-muc/%00", "/gian-hang/a%00b", "/?page=%00"])
def test_nul_characters_are_a_bad_request(client, path):
    assert client.get(path).status_code == 400


def test_a_nul_character_in_a_form_is_a_bad_request_and_writes_nothing(client):
    log_in(client, make_shop().owner)

    response = submit_form(client, "/seller/products/new", product_form(name="Khô\x00cá"))

    assert response.status_code == 400
    assert count_products() == 0


def test_page_links_carry_only_the_sort_and_page(client, monkeypatch):
    from marketplace.catalog import views

    monkeypatch.setattr(views, "CATEGORY_PAGE_SIZE", 1)
    shop = make_shop()
    make_product(shop=shop, name="Khô cá một")
    make_product(shop=shop, name="Khô cá hai")

    response = client.get("/danh-muc/kho-ca?endpoint=x&_method=y&slug=other&sort=price_asc")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/danh-muc/kho-ca?sort=price_asc&amp;page=2"' in html
    assert "slug=other" not in html  # (the log-in link keeps the page, URL-encoded)


def test_a_refused_listing_form_converts_and_stores_no_picture(client, app):
    log_in(client, make_shop().owner)
    media_dir = app.config["MEDIA_DIR"]

    too_many = submit_form(
        client,
        "/seller/products/new",
        {**product_form(), "photos": [jpeg_upload(f"anh-{i}.jpg") for i in range(9)]},
        content_type="multipart/form-data",
    )
    bad_price = submit_form(
        client,
        "/seller/products/new",
        {**product_form(price_vnd="0"), "photos": [jpeg_upload()]},
        content_type="multipart/form-data",
    )

    assert too_many.status_code == 400
    assert "tối đa 8 ảnh" in too_many.get_data(as_text=True)
    assert bad_price.status_code == 400
    assert not any(path.is_file() for path in Path(media_dir).rglob("*"))
