import unicodedata

import pytest

from marketplace.core.money import format_vnd
from marketplace.core.text import fold, slugify


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Khô Cá Lóc", "kho ca loc"),
        ("Đặc sản", "dac san"),
        ("Ðặc sản", "dac san"),  # U+00D0, the look-alike common in Vietnamese web text
        ("ĐƯỜNG THỐT NỐT", "duong thot not"),
        (unicodedata.normalize("NFD", "Mật ong rừng U Minh"), "mat ong rung u minh"),
    ],
)
def test_fold_ignores_case_diacritics_and_d_lookalikes(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Khô Cá Lóc Út Hiền", "kho-ca-loc-ut-hien"),
        ("Đặc sản Đất Mũi", "dac-san-dat-mui"),
        ("Ðặc sản ðất mũi", "dac-san-dat-mui"),
        ("  Tôm khô   Rạch Gốc!! ", "tom-kho-rach-goc"),
    ],
)
def test_slugify_gives_ascii_slugs_from_vietnamese_names(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(150000, "150.000\xa0₫"), (0, "0\xa0₫"), (1_000_000_000, "1.000.000.000\xa0₫")],
)
def test_format_vnd_writes_amounts_as_vietnamese_do(amount, shown):
    assert format_vnd(amount) == shown


@pytest.mark.parametrize("amount", [150000.5, "150000", True])
def test_format_vnd_refuses_anything_but_whole_dong(amount):
    with pytest.raises(TypeError):
        format_vnd(amount)
