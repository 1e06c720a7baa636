"""The category tree a Cà Mau marketplace starts with: two levels, Vietnamese first.

Every slug is the folded Vietnamese name (``slugify(name_vi)``), so the URL reads like the
menu: "Khô & đặc sản chế biến" → ``kho-dac-san-che-bien``. Slugs are unique across the
whole tree, leaves included, so a leaf can be addressed without its parent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name_vi: str
    name_en: str
    children: tuple[CategorySpec, ...] = ()


def _leaf(slug: str, name_vi: str, name_en: str) -> CategorySpec:
    return CategorySpec(slug=slug, name_vi=name_vi, name_en=name_en)


DEFAULT_CATEGORIES: list[CategorySpec] = [
    CategorySpec(
        "hai-san-tuoi-dong-lanh",
        "Hải sản tươi & đông lạnh",
        "Fresh & frozen seafood",
        (
            _leaf("tom-tuoi", "Tôm tươi", "Fresh shrimp"),
            _leaf("cua-ghe", "Cua & ghẹ", "Mud crabs & blue crabs"),
            _leaf("ca-tuoi", "Cá tươi", "Fresh fish"),
            _leaf("muc-tuoi", "Mực tươi", "Fresh squid"),
            _leaf("ngheu-so-oc", "Nghêu, sò & ốc", "Clams, cockles & snails"),
        ),
    ),
    CategorySpec(
        "kho-dac-san-che-bien",
        "Khô & đặc sản chế biến",
        "Dried & processed specialties",
        (
            _leaf("kho-ca", "Khô cá", "Dried fish"),
            _leaf("tom-kho", "Tôm khô", "Dried shrimp"),
            _leaf("kho-muc", "Khô mực", "Dried squid"),
            _leaf("mam-ba-khia", "Mắm & ba khía", "Fermented fish & salted crab"),
            _leaf(
                "cha-ca-banh-phong-tom",
                "Chả cá & bánh phồng tôm",
                "Fish cakes & prawn crackers",
            ),
            _leaf("cha-bong-lap-xuong", "Chà bông & lạp xưởng", "Floss & sausages"),
        ),
    ),
    CategorySpec(
        "nong-san",
        "Nông sản",
        "Farm produce",
        (
            _leaf("gao", "Gạo", "Rice"),
            _leaf("trai-cay", "Trái cây", "Fruit"),
            _leaf("rau-cu", "Rau củ", "Vegetables"),
        ),
    ),
    CategorySpec(
        "mat-ong-san-pham-rung",
        "Mật ong & sản phẩm rừng",
        "Honey & forest products",
        (
            _leaf("mat-ong", "Mật ong", "Honey"),
            _leaf("phan-hoa-sua-ong-chua", "Phấn hoa & sữa ong chúa", "Pollen & royal jelly"),
            _leaf("tinh-dau-tram", "Tinh dầu tràm", "Cajeput oil"),
        ),
    ),
    CategorySpec(
        "san-pham-ocop",
        "Sản phẩm OCOP",
        "OCOP products",
        (
            _leaf("ocop-3-sao", "OCOP 3 sao", "3-star OCOP"),
            _leaf("ocop-4-sao", "OCOP 4 sao", "4-star OCOP"),
            _leaf("ocop-5-sao", "OCOP 5 sao", "5-star OCOP"),
        ),
    ),
    CategorySpec(
        "thu-cong-my-nghe",
        "Thủ công mỹ nghệ",
        "Handicrafts",
        (
            _leaf("dan-lat-lac", "Đan lát lác", "Sedge weaving"),
            _leaf("dan-bang", "Đan bàng", "Bang grass weaving"),
            _leaf("dan-luc-binh", "Đan lục bình", "Water hyacinth weaving"),
            _leaf("do-go-my-nghe", "Đồ gỗ mỹ nghệ", "Wooden crafts"),
        ),
    ),
    CategorySpec(
        "do-uong",
        "Đồ uống",
        "Drinks",
        (
            _leaf("ruou-dac-san", "Rượu đặc sản", "Local liquors"),
            _leaf("tra-thao-moc", "Trà & thảo mộc", "Tea & herbal infusions"),
            _leaf("nuoc-giai-khat", "Nước giải khát", "Soft drinks & juices"),
        ),
    ),
    CategorySpec(
        "qua-tang-hop-qua",
        "Quà tặng & hộp quà",
        "Gifts & gift boxes",
        (
            _leaf("hop-qua-dac-san", "Hộp quà đặc sản", "Specialty gift boxes"),
            _leaf("gio-qua-tet", "Giỏ quà Tết", "Tết gift baskets"),
            _leaf("qua-luu-niem", "Quà lưu niệm", "Souvenirs"),
        ),
    ),
    CategorySpec(
        "banh-keo-an-vat",
        "Bánh kẹo & ăn vặt",
        "Sweets & snacks",
        (
            _leaf("banh-truyen-thong", "Bánh truyền thống", "Traditional cakes"),
            _leaf("mut-keo", "Mứt & kẹo", "Candied fruit & sweets"),
            _leaf("do-an-vat", "Đồ ăn vặt", "Snacks"),
        ),
    ),
    CategorySpec(
        "gia-vi-nuoc-cham",
        "Gia vị & nước chấm",
        "Seasonings & dipping sauces",
        (
            _leaf("nuoc-mam", "Nước mắm", "Fish sauce"),
            _leaf("muoi", "Muối", "Salt"),
            _leaf("sa-te-nuoc-cham", "Sa tế & nước chấm", "Chili sauces & dips"),
        ),
    ),
]


def iter_categories(
    categories: list[CategorySpec] | None = None,
) -> Iterator[tuple[CategorySpec | None, CategorySpec]]:
    """Yield ``(parent, category)`` depth first, ``parent`` None at the top level."""
    for top in DEFAULT_CATEGORIES if categories is None else categories:
        yield None, top
        for child in top.children:
            yield top, child


def leaf_slugs() -> list[str]:
    """Return the slug of every leaf, in menu order."""
    return [spec.slug for _, spec in iter_categories() if not spec.children]


def top_level_of(slug: str) -> str:
    """Return the slug of the top-level category ``slug`` sits under (itself if top)."""
    for parent, spec in iter_categories():
        if spec.slug == slug:
            return spec.slug if parent is None else parent.slug
    raise KeyError(slug)
