"""Vietnam's post-2025 administrative units and the legacy-address mapping."""

from __future__ import annotations

import pytest

from marketplace.core.text import fold
from marketplace.shops import places

CA_MAU = 96
HCMC = 79


def test_thirty_four_provinces_sorted_by_folded_name() -> None:
    all_provinces = places.provinces()
    assert len(all_provinces) == 34
    assert len({p.code for p in all_provinces}) == 34
    short_names = [p.short_name for p in all_provinces]
    assert short_names[0] == "An Giang"
    # Đà Nẵng folds to "da nang": it sorts among the D's, not after Z.
    assert short_names.index("Đà Nẵng") < short_names.index("Gia Lai")


def test_province_names() -> None:
    ca_mau = places.province(CA_MAU)
    assert ca_mau == places.Province(CA_MAU, "Tỉnh Cà Mau", "Cà Mau")
    hcmc = places.province(HCMC)
    assert hcmc is not None
    assert (hcmc.name, hcmc.short_name) == ("Thành phố Hồ Chí Minh", "Hồ Chí Minh")
    assert places.province(999) is None


def test_three_thousand_three_hundred_twenty_one_communes() -> None:
    assert sum(len(places.communes(p.code)) for p in places.provinces()) == 3321


def test_ca_mau_has_64_units_including_former_bac_lieu() -> None:
    units = places.communes(CA_MAU)
    assert len(units) == 64
    names = [c.name for c in units]
    assert sum(n.startswith("Phường ") for n in names) == 9
    assert sum(n.startswith("Xã ") for n in names) == 55
    # Former Cà Mau city, former Bạc Liêu city and Bạc Liêu's districts.
    for name in ("Phường An Xuyên", "Phường Bạc Liêu", "Phường Giá Rai", "Xã Hồng Dân"):
        assert name in names
    assert names == sorted(names, key=lambda n: (fold(n), n))
    assert all(c.province_code == CA_MAU for c in units)
    assert places.communes(999) == []


def test_default_province_is_ca_mau() -> None:
    assert places.default_province_code() == CA_MAU
    assert places.province(places.default_province_code()).short_name == "Cà Mau"


def test_codes_round_trip() -> None:
    for p in places.provinces():
        assert places.province(p.code) == p
        for c in places.communes(p.code):
            assert places.commune(c.code) == c
    assert places.commune(0) is None


def test_results_are_copies() -> None:
    places.communes(CA_MAU).clear()
    places.provinces().clear()
    assert len(places.communes(CA_MAU)) == 64
    assert len(places.provinces()) == 34


def test_commune_in_province() -> None:
    an_xuyen = _code(CA_MAU, "Phường An Xuyên")
    assert places.commune_in_province(an_xuyen, CA_MAU)
    assert not places.commune_in_province(an_xuyen, HCMC)
    assert not places.commune_in_province(_code(HCMC, "Phường Bến Thành"), CA_MAU)
    assert not places.commune_in_province(0, CA_MAU)


def test_format_address() -> None:
    an_xuyen = _code(CA_MAU, "Phường An Xuyên")
    assert (
        places.format_address(" 123  Lý Thường Kiệt ", an_xuyen, CA_MAU)
        == "123 Lý Thường Kiệt, Phường An Xuyên, Tỉnh Cà Mau"
    )
    assert places.format_address("", an_xuyen, CA_MAU) == "Phường An Xuyên, Tỉnh Cà Mau"
    ben_thanh = _code(HCMC, "Phường Bến Thành")
    assert places.format_address("1 Lê Lợi", ben_thanh, HCMC).endswith(
        "Phường Bến Thành, Thành phố Hồ Chí Minh"
    )
    with pytest.raises(ValueError, match="not in province"):
        places.format_address("1 Lê Lợi", an_xuyen, HCMC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Bạc Liêu", CA_MAU),
        ("Tỉnh Bạc Liêu", CA_MAU),
        ("bac lieu", CA_MAU),
        ("BẠC LIÊU", CA_MAU),
        ("Cà Mau", CA_MAU),
        ("TP. Hồ Chí Minh", HCMC),
        ("Thành phố Hồ Chí Minh", HCMC),
        ("TP.HCM", HCMC),
        ("Bình Dương", HCMC),
        ("Bà Rịa - Vũng Tàu", HCMC),
        ("Thừa Thiên Huế", 46),
        ("Khánh Hoà", 56),  # old-style tone placement
        ("Ðồng Nai", 75),  # Icelandic eth, a common look-alike of Đ
        ("Đắk Nông", 68),
        ("Hà Giang", 8),
    ],
)
def test_legacy_province(name: str, expected: int) -> None:
    assert places.map_legacy_address(name) == (expected, None)


def test_unknown_province() -> None:
    assert places.map_legacy_address("Atlantis") is None
    assert places.map_legacy_address("") is None
    assert places.map_legacy_address("Tỉnh") is None
    assert places.map_legacy_address("Atlantis", None, "Phường An Xuyên") is None


def test_every_current_province_name_is_accepted() -> None:
    for p in places.provinces():
        assert places.map_legacy_address(p.name) == (p.code, None)
        assert places.map_legacy_address(p.short_name) == (p.code, None)


def test_legacy_ward_that_kept_its_name() -> None:
    # Phường Tân Thành (former Cà Mau city) and Xã Ninh Quới (former Hồng Dân district,
    # Bạc Liêu) exist under the same names in the new Cà Mau.
    assert places.map_legacy_address("Cà Mau", "Thành phố Cà Mau", "Phường Tân Thành") == (
        CA_MAU,
        _code(CA_MAU, "Phường Tân Thành"),
    )
    assert places.map_legacy_address("Tỉnh Bạc Liêu", "Huyện Hồng Dân", "Xã Ninh Quới") == (
        CA_MAU,
        _code(CA_MAU, "Xã Ninh Quới"),
    )
    assert places.map_legacy_address("bac lieu", None, "ninh quoi") == (
        CA_MAU,
        _code(CA_MAU, "Xã Ninh Quới"),
    )
    assert places.map_legacy_address("TP. Hồ Chí Minh", "Quận 1", "Phường Bến Thành") == (
        HCMC,
        _code(HCMC, "Phường Bến Thành"),
    )


def test_legacy_ward_of_another_type() -> None:
    # Thị trấn no longer exist: the former Thị trấn Gành Hào is now Xã Gành Hào.
    assert places.map_legacy_address("Bạc Liêu", "Đông Hải", "Thị trấn Gành Hào") == (
        CA_MAU,
        _code(CA_MAU, "Xã Gành Hào"),
    )


def test_legacy_ward_not_mapped_when_unknown_or_ambiguous() -> None:
    # Numbered wards existed in many districts; none survives by name in Cà Mau.
    assert places.map_legacy_address("Bạc Liêu", "Thành phố Bạc Liêu", "Phường 1") == (
        CA_MAU,
        None,
    )
    assert places.map_legacy_address("Cà Mau", None, "Xã Không Có") == (CA_MAU, None)
    # Folding merges Tân Thành / Tân Thạnh (both in Tây Ninh): without diacritics it is
    # ambiguous, with them it is not.
    assert places.map_legacy_address("Long An", None, "tan thanh") == (80, None)
    assert places.map_legacy_address("Long An", None, "Xã Tân Thạnh") == (
        80,
        _code(80, "Xã Tân Thạnh"),
    )
    # Phường Mỹ Tho and Xã Mỹ Thọ: the given type or diacritics decide.
    assert places.map_legacy_address("Tiền Giang", None, "my tho") == (82, None)
    assert places.map_legacy_address("Tiền Giang", None, "Phuong My Tho") == (
        82,
        _code(82, "Phường Mỹ Tho"),
    )
    assert places.map_legacy_address("Tiền Giang", None, "Xã Mỹ Thọ") == (
        82,
        _code(82, "Xã Mỹ Thọ"),
    )


def _code(province_code: int, name: str) -> int:
    (match,) = [c.code for c in places.communes(province_code) if c.name == name]
    return match
