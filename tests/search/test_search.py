"""Vietnamese search through the real index, fed by the real catalog hooks."""

import unicodedata

import pytest
from sqlalchemy import select

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core import outbox
from marketplace.extensions import db
from marketplace.search import services
from marketplace.search.backend import SearchFilters, Sort
from marketplace.shops import services as shops
from tests.factories import leaf_category, make_product, make_shop

NO_FILTERS = SearchFilters()


def names(text, filters=NO_FILTERS, sort=Sort.RELEVANCE, per_page=24):
    page = services.search_products(text, filters, sort, page=1, per_page=per_page, locale="vi")
    return [product.name for product in page.items]


@pytest.fixture
def corpus(app):
    shop = make_shop(name="Khô Cá Lóc Út Hiền")
    honey = make_shop(name="HTX Mật Ong U Minh Hạ")
    make_product(shop=shop, name="Khô cá lóc đồng 1 nắng", origin="U Minh, Cà Mau")
    make_product(shop=shop, name="Khô cá sặc rằn", category=leaf_category("kho-ca"))
    make_product(
        shop=shop,
        name="Tôm khô Rạch Gốc loại 1",
        category=leaf_category("tom-kho"),
        origin="Rạch Gốc, Ngọc Hiển",
        price_vnd=1_250_000,
    )
    make_product(
        shop=honey,
        name="Mật ong rừng U Minh nguyên chất",
        category=leaf_category("mat-ong"),
        description_md="Ðặc sản mật ong rừng tràm.",
        ocop_stars=4,
        ocop_certificate_no="1/QĐ",
        ocop_year=2024,
        ocop_level="province",
        price_vnd=350_000,
    )
    make_product(
        shop=honey,
        name="Đường thốt nốt Tri Tôn",
        category=leaf_category("muoi"),
        price_vnd=80_000,
        stock=0,
    )
    make_product(shop=shop, name="Ca lóc nướng trui", description_md="Món ca dân dã.")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kho ca loc", "Khô cá lóc đồng 1 nắng"),
        ("KHÔ CÁ LÓC", "Khô cá lóc đồng 1 nắng"),
        (unicodedata.normalize("NFD", "khô cá lóc"), "Khô cá lóc đồng 1 nắng"),
        ("DUONG THOT NOT", "Đường thốt nốt Tri Tôn"),
        ("mat ong rung", "Mật ong rừng U Minh nguyên chất"),
        ("tom kho rach goc", "Tôm khô Rạch Gốc loại 1"),
        ("ngoc hien", "Tôm khô Rạch Gốc loại 1"),  # the origin
        ("mat ong", "Mật ong rừng U Minh nguyên chất"),
    ],
)
def test_vietnamese_matching_ignores_case_and_diacritics(corpus, query, expected):
    assert names(query)[0] == expected


def test_the_look_alike_eth_folds_to_d(corpus):
    # The honey's description says "Ðặc sản" with U+00D0; only the description has it.
    assert "Mật ong rừng U Minh nguyên chất" in names("mat ong dac san")


def test_the_shop_name_is_searchable(corpus):
    results = services.search_products(
        "ut hien", SearchFilters(), Sort.RELEVANCE, page=1, per_page=24, locale="vi"
    )

    assert results.total == 4
    assert {product.shop.name for product in results.items} == {"Khô Cá Lóc Út Hiền"}


def test_a_query_with_diacritics_ranks_exact_matches_first(corpus):
    results = names("cá lóc")

    assert results.index("Khô cá lóc đồng 1 nắng") < results.index("Ca lóc nướng trui")


def test_phrases_rank_above_scattered_words(corpus):
    assert names("ca loc")[0] in ("Khô cá lóc đồng 1 nắng", "Ca lóc nướng trui")
    assert names("kho ca loc")[0] == "Khô cá lóc đồng 1 nắng"


def test_every_word_must_match(corpus):
    assert names("mat ong tom") == []


def test_a_misspelt_query_gets_a_suggestion(corpus):
    page = services.search_products(
        "mat ogn", SearchFilters(), Sort.RELEVANCE, page=1, per_page=24, locale="vi"
    )

    assert page.total == 0
    assert page.suggestion == "mat ong"


def test_filters_sorts_and_facets(corpus):
    ocop = names("", SearchFilters(min_ocop_stars=4))
    cheap_first = names("", SearchFilters(max_price_vnd=400_000), Sort.PRICE_ASC)
    in_stock = names("", SearchFilters(in_stock=True))
    page = services.search_products(
        "", SearchFilters(), Sort.NEWEST, page=1, per_page=2, locale="vi"
    )

    assert ocop == ["Mật ong rừng U Minh nguyên chất"]
    assert cheap_first[0] == "Đường thốt nốt Tri Tôn"
    assert cheap_first[-1] == "Mật ong rừng U Minh nguyên chất"
    assert "Đường thốt nốt Tri Tôn" not in in_stock
    assert page.total == 6 and len(page.items) == 2
    assert sum(f.count for f in page.facets["category"]) == 6
    assert page.facets["province"][0].label == "Cà Mau"
    assert [(f.label, f.count) for f in page.facets["ocop_stars"]] == [("4★", 1)]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "*",
        "?",
        "*a*",
        "name:[a TO z]",
        "kho AND OR NOT ca",
        "x" * 10_000,
        "\x01\x02\x1b",
        "😀🦐",
        "' OR 1=1; DROP TABLE products; --",
        "ca~2 kho^5",
    ],
)
def test_hostile_queries_answer_without_error(corpus, client, query):
    page = services.search_products(
        query, SearchFilters(), Sort.RELEVANCE, page=1, per_page=24, locale="vi"
    )
    response = client.get("/search", query_string={"q": query})

    assert page.total >= 0
    assert response.status_code == 200


def test_changes_reach_the_index_when_their_transaction_commits(corpus):
    product = make_product(name="Ba khía muối Rạch Gốc", category=leaf_category("mam-ba-khia"))
    assert names("ba khia") == ["Ba khía muối Rạch Gốc"]

    catalog.hide_product(product, reason="Báo cáo")
    db.session.commit()
    assert names("ba khia") == []

    catalog.unhide_product(product)
    db.session.commit()
    assert names("ba khia") == ["Ba khía muối Rạch Gốc"]

    shops.suspend_shop(product.shop, reason="Vi phạm")
    db.session.commit()
    assert names("ba khia") == []
    assert services.check_index().ok
    assert outbox.depth("search").waiting == 0


def test_a_stale_index_never_shows_a_hidden_listing(app, corpus):
    product = make_product(name="Ba khía muối Rạch Gốc", category=leaf_category("mam-ba-khia"))
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False  # as if the index update were delayed

    catalog.hide_product(product, reason="Báo cáo")
    db.session.commit()

    assert names("ba khia") == []
    assert services.check_index().extra == {product.id}
    services.apply_pending()
    assert services.check_index().ok


def test_rebuild_swaps_in_a_complete_index_and_check_agrees(app, corpus):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["search", "rebuild"])
    check = runner.invoke(args=["search", "check"])

    assert result.exit_code == 0, result.output
    assert "6 listings" in result.output
    assert check.exit_code == 0, check.output
    assert names("mat ong")[0] == "Mật ong rừng U Minh nguyên chất"


def test_a_missing_index_is_rebuilt(app, corpus):
    import shutil
    from pathlib import Path

    shutil.rmtree(Path(app.config["SEARCH_INDEX_DIR"]))

    assert services.ensure_index() is True
    assert names("mat ong")[0] == "Mật ong rừng U Minh nguyên chất"
    assert services.ensure_index() is False


def test_an_index_built_with_other_fields_is_rebuilt_at_start(app, corpus):
    from whoosh import index as whoosh_index

    from marketplace.search.whoosh_backend import make_schema

    backend = services.backend()
    earlier_schema = make_schema()
    earlier_schema.remove("name_pairs")
    folder = backend._new_folder()
    whoosh_index.create_in(folder, earlier_schema)
    backend._point_current_at(folder)

    assert services.ensure_index() is True
    assert names("mat ong")[0] == "Mật ong rừng U Minh nguyên chất"
    assert services.ensure_index() is False


def test_results_page_keeps_filters_and_highlights(corpus, client):
    response = client.get("/search?q=mat+ong&ocop=4&sort=price_asc&endpoint=x&_method=y")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Mật ong rừng U Minh nguyên chất" in html
    assert "<mark>mật</mark> <mark>ong</mark>" in html
    assert 'name="q" value="mat ong"' in html
    assert "endpoint=x" not in html


def test_suggestions_endpoint(corpus, client):
    response = client.get("/search/suggest?q=mat o")

    assert response.status_code == 200
    assert response.json[0]["name"] == "Mật ong rừng U Minh nguyên chất"
    assert response.json[0]["url"].startswith("/san-pham/")
    assert client.get("/search/suggest?q=").json == []


def test_unpublished_drafts_are_never_indexed(app):
    product = make_product(status=ProductStatus.DRAFT, name="Bản nháp bí mật")

    assert names("ban nhap") == []
    assert product.id not in services.backend().document_ids()


def test_a_process_killed_mid_commit_leaves_an_index_that_still_opens(app, corpus):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    before = services.backend().document_ids()

    process = subprocess.run(
        [sys.executable, "-m", "tests.search.killed_writer", app.config["SEARCH_INDEX_DIR"]],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        timeout=120,
    )

    assert process.returncode == -9, process.stderr.decode()[-2000:]
    services.backend().check()
    assert services.backend().document_ids() == before
    assert names("mat ong")[0] == "Mật ong rừng U Minh nguyên chất"
    make_product(name="Ba khía muối Rạch Gốc", category=leaf_category("mam-ba-khia"))
    assert names("ba khia") == ["Ba khía muối Rạch Gốc"]  # the lock died with the process


def test_suggestions_show_each_name_once_and_whole_words_first(corpus, client):
    shop = make_shop(name="Gian hàng thứ hai")
    make_product(shop=shop, name="Khô cá lóc đồng 1 nắng")
    make_product(shop=shop, name="Hộp quà cao cấp", category=leaf_category("hop-qua-dac-san"))

    names_offered = [item["name"] for item in client.get("/search/suggest?q=kho ca").json]

    assert names_offered.count("Khô cá lóc đồng 1 nắng") == 1
    assert names_offered[0].startswith("Khô cá")


def test_snippets_show_text_not_markdown(corpus, client):
    make_product(
        name="Ba khía muối",
        category=leaf_category("mam-ba-khia"),
        description_md="**Ba khía** rừng đước, muối chua ngọt.",
    )

    html = client.get("/search?q=ba+khia").get_data(as_text=True)

    assert "<mark>Ba</mark> <mark>khía</mark> rừng đước" in html
    assert "**" not in html


def test_a_change_made_inside_a_savepoint_reaches_the_index_at_commit(corpus):
    product = db.session.scalar(select(Product).where(Product.name.like("Mật ong%")))

    with db.session.begin_nested():
        product.name = "Mật ong hoa tràm Sông Trẹm"
    # A savepoint rolled back later in the transaction must not drop that change either.
    savepoint = db.session.begin_nested()
    db.session.execute(select(1))
    savepoint.rollback()
    db.session.commit()

    assert names("hoa tram song trem") == ["Mật ong hoa tràm Sông Trẹm"]


def test_a_sale_that_leaves_stock_is_not_reindexed_and_the_last_unit_is(app, corpus):
    from marketplace.catalog import stock

    product = make_product(name="Ba khía muối Rạch Gốc", stock=3)
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False  # the messages stay to be looked at

    stock.take_stock(db.session, {product.id: 2})
    db.session.commit()
    assert outbox.depth("search").waiting == 0  # still in stock: the document is the same
    assert names("ba khia", SearchFilters(in_stock=True)) == ["Ba khía muối Rạch Gốc"]

    stock.take_stock(db.session, {product.id: 1})
    db.session.commit()
    assert outbox.depth("search").waiting == 1
    services.apply_pending()
    assert names("ba khia", SearchFilters(in_stock=True)) == []

    stock.return_stock(db.session, {product.id: 1})  # a cancelled order: back in stock
    db.session.commit()
    services.apply_pending()
    assert names("ba khia", SearchFilters(in_stock=True)) == ["Ba khía muối Rạch Gốc"]


def test_a_sale_in_a_transaction_that_also_edits_the_listing_is_reindexed(app, corpus):
    from marketplace.catalog import stock

    product = make_product(name="Ba khía muối Rạch Gốc", stock=3)
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False

    product.origin = "Ngọc Hiển"
    db.session.flush()
    stock.take_stock(db.session, {product.id: 1})
    db.session.commit()

    assert outbox.depth("search").waiting == 1
