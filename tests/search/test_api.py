"""GET /api/v1/products: the same search as the page, as JSON."""

import pytest

from tests.factories import leaf_category, make_image, make_product, make_shop


@pytest.fixture
def listings(app):
    shop = make_shop(name="HTX Mật Ong U Minh Hạ")
    honey = make_product(
        shop=shop,
        name="Mật ong rừng U Minh nguyên chất",
        category=leaf_category("mat-ong"),
        price_vnd=350_000,
        compare_at_price_vnd=400_000,
        ocop_stars=4,
        ocop_certificate_no="1/QĐ",
        ocop_year=2024,
        ocop_level="province",
        images=[make_image()],
    )
    make_product(shop=shop, name="Khô cá lóc đồng 1 nắng", price_vnd=450_000)
    return honey


def test_products_search_returns_items_facets_and_paging(client, listings):
    response = client.get("/api/v1/products?q=mat+ong+rung&sort=price_asc&per_page=10")

    body = response.json
    assert response.status_code == 200
    assert body["total"] == 1
    assert (body["page"], body["per_page"]) == (1, 10)
    item = body["items"][0]
    assert item["name"] == "Mật ong rừng U Minh nguyên chất"
    assert item["price_vnd"] == 350_000
    assert item["compare_at_price_vnd"] == 400_000
    assert item["ocop_stars"] == 4
    assert item["province"] == "Cà Mau"
    assert item["shop"] == {"slug": "htx-mat-ong-u-minh-ha", "name": "HTX Mật Ong U Minh Hạ"}
    assert item["category"]["slug"] == "mat-ong"
    assert item["url"].endswith(f"/san-pham/{listings.id}/{listings.slug}")
    assert item["image_url"].endswith("-600.webp")
    assert body["facets"]["category"][0]["value"] == "mat-ong-san-pham-rung"
    assert body["facets"]["ocop_stars"] == [{"value": 4, "label": "4★", "count": 1}]
    assert body["suggestion"] is None


def test_filters_work_as_on_the_page(client, listings):
    ocop = client.get("/api/v1/products?ocop=4").json
    by_shop = client.get("/api/v1/products?shop=htx-mat-ong-u-minh-ha").json
    by_price = client.get("/api/v1/products?min_price=400.000").json

    assert [item["name"] for item in ocop["items"]] == ["Mật ong rừng U Minh nguyên chất"]
    assert by_shop["total"] == 2
    assert [item["name"] for item in by_price["items"]] == ["Khô cá lóc đồng 1 nắng"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("sort=cheapest", "invalid_sort"),
        ("per_page=101", "invalid_per_page"),
        ("page=0", "invalid_page"),
        ("page=abc", "invalid_page"),
        ("ocop=2", "invalid_ocop"),
        ("category=khong-co", "invalid_category"),
        ("shop=khong-co", "invalid_shop"),
        ("min_price=-5", "invalid_min_price"),
        ("min_price=500000&max_price=100", "invalid_max_price"),
    ],
)
def test_bad_parameters_are_a_400_with_a_json_error(client, listings, query, code):
    response = client.get(f"/api/v1/products?{query}")

    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


@pytest.mark.parametrize("name", ["min_price", "max_price", "province", "ocop", "page", "per_page"])
@pytest.mark.parametrize("value", ["²", "①", "١٢", "１２", "1,5", "99999999999999999999"])
def test_unicode_digits_and_huge_numbers_are_a_400_not_a_500(client, listings, name, value):
    response = client.get("/api/v1/products", query_string={name: value})

    assert response.status_code == 400
    assert response.json["error"]["code"] == f"invalid_{name}"


@pytest.mark.parametrize("name", ["min_price", "max_price", "province", "ocop", "page"])
def test_the_results_page_ignores_unicode_digits(client, listings, name):
    response = client.get("/search", query_string={"q": "mat ong", name: "²"})

    assert response.status_code == 200
    assert "Mật ong rừng U Minh" in response.get_data(as_text=True)


def test_hostile_text_is_just_text(client, listings):
    response = client.get("/api/v1/products", query_string={"q": 'name:[a TO z] "* OR 1=1'})

    assert response.status_code == 200
    assert response.json["total"] == 0


def test_json_carries_vietnamese_as_utf8(client, listings):
    response = client.get("/api/v1/products?q=mat+ong+rung")

    assert "Mật ong rừng U Minh nguyên chất".encode() in response.data
    assert response.mimetype == "application/json"
