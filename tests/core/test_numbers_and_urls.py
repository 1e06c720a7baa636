"""One parser for whole numbers and prices, one check for web addresses (issue 9, items 2–3)."""

from __future__ import annotations

import pytest

from marketplace.core.numbers import NumberFormatError, parse_optional_number, parse_whole_number
from marketplace.core.urls import InvalidWebAddress, check_web_url


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("150000", 150_000),
        ("150.000", 150_000),
        ("150 000", 150_000),
        ("150\u00a0000", 150_000),
        ("1.500.000", 1_500_000),
        ("  42 ", 42),
        ("0", 0),
    ],
)
def test_whole_numbers_are_read_as_vietnamese_write_them(text, value):
    assert parse_whole_number(text) == value


@pytest.mark.parametrize(
    "text", ["150.000 ₫", "150.000₫", "150000 đ", "150.000 VND", "150 000 vnđ"]
)
def test_prices_may_carry_the_dong_sign(text):
    assert parse_whole_number(text, money=True) == 150_000


@pytest.mark.parametrize(
    "text",
    [
        "150.000,00",  # a decimal part: was saved as 15 000 000 đ
        "1,5",  # was saved as 15 đ
        "150,000",
        "1.5",
        "1.50",
        "15.00.000",
        "1.500 000",  # two kinds of separator
        "150000.",
        ".500",
        "-5",
        "−5",
        "+5",
        "²",
        "①",
        "١٢٣",  # Arabic-Indic digits, which int() accepts
        "１２",  # full-width digits
        "12a",
        "",
        "1" * 16,
        "1e6",
        "0" * 5000 + "1" * 16,
    ],
)
def test_anything_else_is_refused_with_how_to_write_it(text):
    with pytest.raises(NumberFormatError):
        parse_whole_number(text, money=True)


def test_the_dong_sign_is_not_a_number_outside_prices():
    with pytest.raises(NumberFormatError):
        parse_whole_number("5 ₫")


def test_leading_zeros_never_reach_int_as_a_huge_string():
    assert parse_whole_number("0" * 5000 + "12") == 12


def test_an_empty_optional_number_is_none():
    assert parse_optional_number("  ") is None
    assert parse_optional_number(None) is None
    assert parse_optional_number("1.000") == 1000


@pytest.mark.parametrize(
    "url",
    [
        "https://truyxuat.camau.gov.vn/sp/123",
        "http://example.vn",
        "https://cà-mau.vn/mật-ong",
        "https://example.vn:8443/a?b=c#d",
        "http://127.0.0.1:8081/x",
        "http://[::1]:8080/",
    ],
)
def test_usable_web_addresses_pass(url):
    assert check_web_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://[",
        "https://[::1",
        "https://[::1]:0/",
        "https://example.vn:65536/",
        "https://example.vn:/",
        "https://example.vn:abc/",
        "https:// example.vn",
        "https://exa mple.vn",
        "https://example.vn/a b",
        "https://exa_mple.vn",
        "https://-bad-.vn",
        "https://a..b.vn",
        "https://999.1.1.1/",
        "https://bank.vn@evil.example/",
        "ftp://example.vn",
        "javascript:alert(1)",
        "//example.vn",
        "example.vn",
        "https://",
        "https://example.vn/\x00",
        "https://example.vn/\u200b",
        "https://" + "a" * 600 + ".vn",
    ],
)
def test_broken_or_deceptive_addresses_are_refused(url):
    with pytest.raises(InvalidWebAddress):
        check_web_url(url)
