"""Relevance: realistic queries over a fixed corpus must put the right listings first."""

import math
from pathlib import Path

import pytest
import yaml

from marketplace.search import services
from marketplace.search.backend import SearchFilters, Sort
from tests.factories import leaf_category, make_product, make_shop

RELEVANCE = yaml.safe_load((Path(__file__).parent / "relevance.yaml").read_text(encoding="utf-8"))
TARGET = 0.9


def ndcg_at_10(ranked: list[str], expected: list[str]) -> float:
    """Graded nDCG: the first expected listing is worth most, the last one least."""
    gains = {name: len(expected) - position for position, name in enumerate(expected)}
    dcg = sum(gains.get(name, 0) / math.log2(rank + 2) for rank, name in enumerate(ranked[:10]))
    ideal = sum(
        gain / math.log2(rank + 2)
        for rank, gain in enumerate(sorted(gains.values(), reverse=True)[:10])
    )
    return dcg / ideal


@pytest.fixture
def corpus(app):
    shops = {}
    for item in RELEVANCE["products"]:
        shop = shops.get(item["shop"]) or make_shop(name=item["shop"], trusted=True)
        shops[item["shop"]] = shop
        fields = (
            {
                "ocop_stars": item["ocop_stars"],
                "ocop_certificate_no": "1/QĐ-UBND",
                "ocop_year": 2024,
                "ocop_level": "province",
            }
            if item.get("ocop_stars")
            else {}
        )
        make_product(
            shop=shop,
            name=item["name"],
            category=leaf_category(item["category"]),
            origin=item["origin"],
            description_md=item["description"],
            price_vnd=item.get("price_vnd", 100_000),
            **fields,
        )


def ranked_names(query: str) -> tuple[list[str], str | None]:
    page = services.search_products(
        query, SearchFilters(), Sort.RELEVANCE, page=1, per_page=10, locale="vi"
    )
    return [product.name for product in page.items], page.suggestion


def test_the_relevance_set_has_at_least_forty_queries():
    assert len(RELEVANCE["queries"]) >= 40


def test_mean_ndcg_at_10_is_at_least_0_9(corpus):
    scores = {}
    for case in RELEVANCE["queries"]:
        ranked, suggestion = ranked_names(case["query"])
        if case.get("misspelt"):
            # The page offers "Có phải bạn muốn tìm: …"; following it must find them.
            assert not ranked and suggestion, case["query"]
            ranked, _ = ranked_names(suggestion)
        scores[case["query"]] = ndcg_at_10(ranked, case["expect"])

    mean = sum(scores.values()) / len(scores)
    weakest = sorted(scores.items(), key=lambda item: item[1])[:8]
    print(f"mean nDCG@10 {mean:.3f}; weakest: {weakest}")
    assert mean >= TARGET, f"mean nDCG@10 {mean:.3f}; weakest: {weakest}"
