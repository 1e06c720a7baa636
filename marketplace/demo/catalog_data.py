"""Raw material for the demo catalogue: shops and products as Cà Mau sells them.

Everything is drawn from a ``random.Random`` the caller passes in, so the same seed gives
the same shops and products: no clock, no network, no global random state. Prices are whole
đồng at 2025 market levels; localities are those of the Cà Mau province formed in 2025
(the former Cà Mau and Bạc Liêu provinces), and wards are the real post-merger communes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from marketplace.catalog.default_categories import leaf_slugs, top_level_of
from marketplace.demo.names import GIVEN_FEMALE, GIVEN_MALE

BUSINESS_TYPES = ("enterprise", "cooperative", "household", "individual")
# A subset of marketplace.catalog.services.UNITS (not imported: it pulls in the app).
UNITS = ("kg", "hộp", "gói", "túi", "chai", "hũ", "con", "bó", "cái")
OCOP_LEVELS = ("province", "national")
GTIN_PREFIX_VN = "893"
# Products under these leaves carry exactly that many OCOP stars.
OCOP_LEAVES = {"ocop-3-sao": 3, "ocop-4-sao": 4, "ocop-5-sao": 5}
# A template needs at least this OCOP chance to ever draw 5 stars (the flagship products).
FIVE_STAR_MIN_OCOP = 0.4


@dataclass(frozen=True)
class Pack:
    """A packed size of a template: ``label`` goes in the name, the price scales by ``factor``."""

    label: str
    unit: str
    factor: float


@dataclass(frozen=True)
class ProductTemplate:
    name: str  # may hold {origin}
    unit: str
    price: tuple[int, int]  # whole VND for one unit of the base quantity
    grams: int  # shipping weight of one unit of the base quantity
    grades: tuple[str, ...] = ()
    packs: tuple[Pack, ...] = ()
    loose: bool = True  # False: always sold in one of ``packs``
    origins: tuple[str, ...] = ()  # default: the leaf's origins
    ocop: float = 0.0  # chance a product of this kind carries OCOP stars
    notes: tuple[str, ...] = ()  # sentences about this product, before the leaf's
    category: str = ""  # filled in below: the leaf the template belongs to


@dataclass(frozen=True)
class ProductProfile:
    category_slug: str
    name: str
    unit: str
    price_vnd: int
    compare_at_price_vnd: int | None
    stock: int
    weight_grams: int
    ocop_stars: int | None
    ocop_certificate_no: str | None
    ocop_year: int | None
    ocop_level: str | None
    origin: str
    description_md: str
    gtin: str | None


@dataclass(frozen=True)
class ShopProfile:
    name: str
    business_type: str
    description: str
    street_address: str
    ward: str
    locality: str
    category_slugs: tuple[str, ...]
    founded_year: int
    province: str = "Cà Mau"

    @property
    def full_address(self) -> str:
        return f"{self.street_address}, {self.ward}, Tỉnh {self.province}"


# --- Places -------------------------------------------------------------------------------

# The communes and wards (2025) each locality name used in products and shop names covers.
WARDS_BY_LOCALITY: dict[str, tuple[str, ...]] = {
    "Cà Mau": ("Phường An Xuyên", "Phường Lý Văn Lâm", "Phường Tân Thành", "Phường Hòa Thành"),
    "Bạc Liêu": ("Phường Bạc Liêu", "Phường Vĩnh Trạch", "Phường Hiệp Thành"),
    "Giá Rai": ("Phường Giá Rai", "Phường Láng Tròn", "Xã Phong Thạnh"),
    "Năm Căn": ("Xã Năm Căn", "Xã Tam Giang", "Xã Đất Mới"),
    "Tam Giang": ("Xã Tam Giang",),
    "Ngọc Hiển": ("Xã Phan Ngọc Hiển", "Xã Tân Ân", "Xã Đất Mũi"),
    "Rạch Gốc": ("Xã Tân Ân",),
    "Đất Mũi": ("Xã Đất Mũi",),
    "Đầm Dơi": ("Xã Đầm Dơi", "Xã Tạ An Khương", "Xã Trần Phán", "Xã Thanh Tùng", "Xã Quách Phẩm"),
    "Cái Đôi Vàm": ("Xã Cái Đôi Vàm",),
    "Phú Tân": ("Xã Phú Tân", "Xã Nguyễn Việt Khái", "Xã Cái Đôi Vàm"),
    "Cái Nước": ("Xã Cái Nước", "Xã Phú Mỹ", "Xã Lương Thế Trân", "Xã Tân Hưng", "Xã Hưng Mỹ"),
    "Sông Đốc": ("Xã Sông Đốc",),
    "Trần Văn Thời": ("Xã Trần Văn Thời", "Xã Khánh Bình", "Xã Đá Bạc", "Xã Khánh Hưng"),
    "Khánh Bình": ("Xã Khánh Bình",),
    "U Minh": ("Xã U Minh", "Xã Nguyễn Phích", "Xã Khánh Lâm", "Xã Khánh An"),
    "Khánh An": ("Xã Khánh An",),
    "Khánh Lâm": ("Xã Khánh Lâm",),
    "Nguyễn Phích": ("Xã Nguyễn Phích",),
    "Thới Bình": ("Xã Thới Bình", "Xã Trí Phải", "Xã Tân Lộc", "Xã Hồ Thị Kỷ", "Xã Biển Bạch"),
    "Tân Lộc": ("Xã Tân Lộc",),
    "Hồng Dân": ("Xã Hồng Dân", "Xã Vĩnh Lộc", "Xã Ninh Thạnh Lợi", "Xã Ninh Quới"),
    "Phước Long": ("Xã Phước Long", "Xã Vĩnh Phước", "Xã Phong Hiệp", "Xã Vĩnh Thanh"),
    "Vĩnh Lợi": ("Xã Vĩnh Lợi", "Xã Hưng Hội", "Xã Châu Thới"),
    "Hòa Bình": ("Xã Hòa Bình", "Xã Vĩnh Mỹ", "Xã Vĩnh Hậu"),
    "Đông Hải": ("Xã Đông Hải", "Xã Định Thành", "Xã An Trạch", "Xã Long Điền"),
    "Gành Hào": ("Xã Gành Hào",),
    "Long Điền": ("Xã Long Điền",),
}
# Longer names people put on signs for some places.
PLACE_ALIASES: dict[str, tuple[str, ...]] = {
    "U Minh": ("U Minh", "U Minh Hạ"),
    "Đất Mũi": ("Đất Mũi", "Mũi Cà Mau"),
    "Cà Mau": ("Cà Mau", "Đất Mũi Cà Mau"),
}
STREETS: dict[str, tuple[str, ...]] = {
    "Cà Mau": (
        "Nguyễn Tất Thành",
        "Trần Hưng Đạo",
        "Lý Thường Kiệt",
        "Phan Ngọc Hiển",
        "Ngô Quyền",
        "Hùng Vương",
        "Nguyễn Trãi",
        "Lê Lợi",
        "Quang Trung",
        "3 Tháng 2",
        "Lý Văn Lâm",
        "Tạ Uyên",
    ),
    "Bạc Liêu": (
        "Trần Phú",
        "Hòa Bình",
        "Võ Thị Sáu",
        "Hai Bà Trưng",
        "Cao Văn Lầu",
        "Lê Duẩn",
        "Ninh Bình",
    ),
    "Giá Rai": ("Quốc lộ 1A", "Nguyễn Văn Uông", "Trần Văn Sớm", "Lê Thị Riêng"),
}
HAMLETS = (
    "Ấp 1",
    "Ấp 2",
    "Ấp 3",
    "Ấp 4",
    "Ấp 5",
    "Ấp 7",
    "Ấp 10",
    "Ấp Chợ",
    "Ấp Xóm Mới",
    "Ấp Kinh Ngang",
    "Ấp Vàm",
    "Ấp Bờ Đập",
    "Ấp Tân Hòa",
    "Ấp Thành Công",
    "Ấp Cây Dương",
    "Ấp Kinh Xáng",
    "Ấp Nhà Máy",
    "Ấp Bà Hính",
    "Ấp Đồng Tâm",
    "Ấp Tân Điền",
)

SEA = ("Năm Căn", "Ngọc Hiển", "Đầm Dơi", "Tam Giang", "Cái Nước", "Phú Tân", "Đất Mũi")
MANGROVE = ("Năm Căn", "Ngọc Hiển", "Đầm Dơi", "Tam Giang", "Đất Mũi")
FISHING_PORTS = ("Sông Đốc", "Gành Hào", "Đất Mũi", "Khánh Bình")
FRESHWATER = ("U Minh", "Thới Bình", "Hồng Dân", "Phước Long", "Trần Văn Thời")
FOREST = ("U Minh", "Trần Văn Thời", "Khánh An", "Khánh Lâm", "Nguyễn Phích")
TOWNS = ("Cà Mau", "Bạc Liêu", "Giá Rai", "Năm Căn", "Cái Nước", "Đầm Dơi")
SALT = ("Bạc Liêu", "Đông Hải", "Long Điền", "Hòa Bình")


def _packs(unit: str, *labels_and_factors: tuple[str, float]) -> tuple[Pack, ...]:
    return tuple(Pack(label, unit, factor) for label, factor in labels_and_factors)


JAR_500 = _packs("hũ", ("hũ 500 g", 1.0), ("hũ 1 kg", 2.0))
HONEY = _packs("chai", ("chai 1 lít", 1.0), ("chai 500 ml", 0.5))
RICE = _packs("túi", ("túi 5 kg", 1.0), ("túi 2 kg", 0.42))

# --- Products, by leaf --------------------------------------------------------------------

_T = ProductTemplate

_TEMPLATES: dict[str, tuple[ProductTemplate, ...]] = {
    "tom-tuoi": (
        _T(
            "Tôm sú sinh thái {origin}",
            "kg",
            (300_000, 480_000),
            1000,
            grades=("size 20 con/kg", "size 30 con/kg", "size 40 con/kg"),
            ocop=0.05,
        ),
        _T(
            "Tôm càng xanh {origin}",
            "kg",
            (280_000, 420_000),
            1000,
            grades=("loại 1", "size 10–12 con/kg"),
            origins=("Thới Bình", "U Minh", "Hồng Dân", "Phước Long"),
        ),
        _T(
            "Tôm thẻ tươi {origin}",
            "kg",
            (140_000, 220_000),
            1000,
            grades=("size 50 con/kg", "size 70 con/kg"),
            origins=("Đầm Dơi", "Giá Rai", "Đông Hải", "Cái Nước"),
        ),
        _T("Tôm đất {origin}", "kg", (170_000, 260_000), 1000),
        _T(
            "Tôm sú lột nõn đông lạnh {origin}",
            "hộp",
            (190_000, 260_000),
            550,
            packs=_packs("hộp", ("khay 500 g", 1.0)),
            loose=False,
        ),
    ),
    "cua-ghe": (
        _T(
            "Cua gạch {origin}",
            "kg",
            (550_000, 850_000),
            1000,
            grades=("loại 3 con/kg", "loại 2 con/kg"),
            ocop=0.1,
        ),
        _T(
            "Cua gạch son {origin}",
            "con",
            (230_000, 380_000),
            450,
            grades=("con 400 g", "con 500 g"),
            ocop=0.1,
        ),
        _T(
            "Cua thịt {origin}",
            "kg",
            (380_000, 650_000),
            1000,
            grades=("loại 3 con/kg", "loại 2 con/kg", "loại 4 con/kg"),
        ),
        _T("Cua cốm {origin}", "kg", (250_000, 380_000), 1000),
        _T("Ghẹ xanh {origin}", "kg", (350_000, 550_000), 1000, origins=FISHING_PORTS),
        _T("Cua lột đông lạnh {origin}", "kg", (420_000, 600_000), 1000),
    ),
    "ca-tuoi": (
        _T(
            "Cá kèo {origin}",
            "kg",
            (140_000, 220_000),
            1000,
            grades=("còn sống", "làm sạch"),
            origins=("Đầm Dơi", "Giá Rai", "Đông Hải", "Cái Nước", "Phú Tân"),
        ),
        _T(
            "Cá lóc đồng {origin}",
            "kg",
            (110_000, 170_000),
            1000,
            grades=("con 600–800 g", "làm sạch"),
            origins=FRESHWATER,
        ),
        _T("Cá chẽm {origin}", "kg", (160_000, 240_000), 1000, origins=MANGROVE),
        _T(
            "Cá thòi lòi {origin}",
            "kg",
            (180_000, 300_000),
            1000,
            origins=("Đất Mũi", "Ngọc Hiển", "Năm Căn"),
        ),
        _T("Cá nâu {origin}", "kg", (200_000, 320_000), 1000, origins=MANGROVE),
    ),
    "muc-tuoi": (
        _T(
            "Mực ống tươi {origin}",
            "kg",
            (250_000, 380_000),
            1000,
            grades=("size 8–10 con/kg", "size 15 con/kg"),
        ),
        _T("Mực lá {origin}", "kg", (320_000, 450_000), 1000),
        _T("Mực nang làm sạch {origin}", "kg", (280_000, 400_000), 1000),
        _T("Bạch tuộc {origin}", "kg", (150_000, 240_000), 1000),
    ),
    "ngheu-so-oc": (
        _T(
            "Nghêu sống {origin}",
            "kg",
            (45_000, 80_000),
            1000,
            grades=("loại lớn", "size 40 con/kg"),
            origins=("Đất Mũi", "Ngọc Hiển", "Đông Hải", "Gành Hào"),
        ),
        _T("Sò huyết {origin}", "kg", (180_000, 300_000), 1000),
        _T("Ốc len {origin}", "kg", (120_000, 200_000), 1000, origins=MANGROVE),
        _T("Hàu sữa {origin}", "kg", (60_000, 110_000), 1000),
        _T("Vọp {origin}", "kg", (60_000, 100_000), 1000, origins=MANGROVE),
    ),
    "kho-ca": (
        _T(
            "Khô cá lóc đồng {origin}",
            "kg",
            (380_000, 560_000),
            1000,
            grades=("1 nắng", "loại 1", "loại đặc biệt"),
            packs=_packs("gói", ("gói 500 g", 0.5)),
            origins=("U Minh", "Thới Bình", "Trần Văn Thời", "Hồng Dân"),
            ocop=0.45,
            notes=("Cá lóc đồng bắt ngoài ruộng, kênh rạch mùa nước nổi, thịt săn và thơm.",),
        ),
        _T(
            "Khô cá sặc rằn {origin}",
            "kg",
            (260_000, 380_000),
            1000,
            grades=("1 nắng", "loại 1", "loại 5–6 con/kg"),
            packs=_packs("gói", ("gói 500 g", 0.5)),
            origins=FRESHWATER,
            ocop=0.3,
        ),
        _T(
            "Khô cá kèo {origin}",
            "kg",
            (320_000, 480_000),
            1000,
            grades=("loại 1", "ướp ngũ vị"),
            packs=_packs("gói", ("gói 500 g", 0.5)),
            origins=("Đầm Dơi", "Giá Rai", "Đông Hải", "Cái Nước"),
            ocop=0.3,
        ),
        _T("Khô cá đù 1 nắng {origin}", "kg", (220_000, 320_000), 1000, origins=FISHING_PORTS),
        _T(
            "Khô cá bổi {origin}",
            "kg",
            (120_000, 200_000),
            1000,
            packs=_packs("gói", ("gói 500 g", 0.5)),
            origins=("Sông Đốc", "Khánh Bình", "Gành Hào"),
        ),
        _T("Khô cá chỉ vàng {origin}", "kg", (250_000, 380_000), 1000, origins=FISHING_PORTS),
    ),
    "tom-kho": (
        _T(
            "Tôm khô Rạch Gốc",
            "kg",
            (1_000_000, 1_600_000),
            1000,
            grades=("loại 1", "loại đặc biệt", "size lớn"),
            packs=_packs("hũ", ("hũ 250 g", 0.25), ("hũ 500 g", 0.5)),
            origins=("Rạch Gốc",),
            ocop=0.55,
            notes=(
                "Rạch Gốc là vùng tôm khô nổi tiếng bậc nhất của Ngọc Hiển, "
                "nơi nghề làm tôm khô được truyền qua nhiều thế hệ.",
            ),
        ),
        _T(
            "Tôm khô {origin}",
            "kg",
            (900_000, 1_400_000),
            1000,
            grades=("loại 1", "loại 2", "size lớn"),
            packs=_packs("gói", ("gói 500 g", 0.5)),
            origins=("Năm Căn", "Đầm Dơi", "Tam Giang", "Cái Đôi Vàm", "Gành Hào"),
            ocop=0.3,
        ),
        _T(
            "Tôm đất khô {origin}",
            "kg",
            (650_000, 950_000),
            1000,
            grades=("loại 1", "size vừa"),
            packs=_packs("hũ", ("hũ 500 g", 0.5)),
            ocop=0.2,
        ),
        _T(
            "Tép khô {origin}",
            "kg",
            (250_000, 400_000),
            1000,
            packs=_packs("hũ", ("hũ 200 g", 0.2)),
        ),
    ),
    "kho-muc": (
        _T(
            "Khô mực {origin}",
            "kg",
            (1_100_000, 1_800_000),
            1000,
            grades=("size 10–12 con/kg", "size 15–18 con/kg", "loại 1"),
            packs=_packs("gói", ("gói 500 g", 0.5)),
            ocop=0.35,
        ),
        _T(
            "Mực một nắng {origin}",
            "kg",
            (450_000, 650_000),
            1000,
            grades=("loại 1", "size lớn"),
        ),
        _T("Mực ống khô {origin}", "kg", (900_000, 1_300_000), 1000),
    ),
    "mam-ba-khia": (
        _T(
            "Ba khía muối {origin}",
            "hũ",
            (55_000, 90_000),
            550,
            packs=JAR_500,
            loose=False,
            origins=("Rạch Gốc", "Ngọc Hiển", "Năm Căn"),
            ocop=0.45,
            notes=(
                "Ba khía bắt trong rừng đước lúc nước ròng, muối ngay khi còn sống "
                "nên thịt chắc và gạch béo.",
            ),
        ),
        _T(
            "Ba khía trộn tỏi ớt {origin}",
            "hũ",
            (70_000, 110_000),
            550,
            packs=JAR_500,
            loose=False,
            origins=("Rạch Gốc", "Ngọc Hiển", "Năm Căn"),
            ocop=0.2,
        ),
        _T(
            "Mắm cá lóc {origin}",
            "hũ",
            (90_000, 140_000),
            550,
            packs=JAR_500,
            loose=False,
            origins=("U Minh", "Thới Bình", "Hồng Dân"),
            ocop=0.3,
        ),
        _T(
            "Mắm cá sặc {origin}",
            "hũ",
            (70_000, 110_000),
            550,
            packs=JAR_500,
            loose=False,
            origins=("U Minh", "Thới Bình", "Phước Long"),
        ),
        _T(
            "Mắm tôm chà {origin}",
            "hũ",
            (80_000, 130_000),
            550,
            packs=_packs("hũ", ("hũ 500 g", 1.0)),
            loose=False,
            origins=("Bạc Liêu", "Vĩnh Lợi", "Đông Hải"),
            ocop=0.3,
        ),
    ),
    "cha-ca-banh-phong-tom": (
        _T(
            "Bánh phồng tôm {origin}",
            "gói",
            (110_000, 210_000),
            520,
            grades=("loại đặc biệt", "70% tôm", "loại 1"),
            packs=_packs("gói", ("gói 500 g", 1.0)) + _packs("hộp", ("hộp 1 kg", 2.0)),
            loose=False,
            ocop=0.5,
            notes=(
                "Bánh phồng nở đều, giòn xốp, đậm vị tôm và không ngấm dầu khi chiên.",
                "Chiên ngập dầu nóng khoảng 170 độ hoặc dùng nồi chiên không dầu.",
                "Bánh sống để nơi khô ráo dùng được đến 12 tháng.",
            ),
        ),
        _T(
            "Bánh phồng tôm chiên sẵn {origin}",
            "gói",
            (45_000, 70_000),
            220,
            packs=_packs("gói", ("gói 200 g", 1.0)),
            loose=False,
        ),
        _T(
            "Chả cá thác lác {origin}",
            "gói",
            (110_000, 150_000),
            520,
            packs=_packs("gói", ("gói 500 g", 1.0)),
            loose=False,
            origins=("Cà Mau", "Thới Bình", "U Minh"),
            notes=("Chả dai, ngọt tự nhiên, có thể chiên, hấp hay thả lẩu.",),
        ),
        _T(
            "Chả tôm {origin}",
            "gói",
            (150_000, 220_000),
            520,
            packs=_packs("gói", ("gói 500 g", 1.0)),
            loose=False,
            ocop=0.2,
            notes=("Bảo quản ngăn đông, rã đông trong ngăn mát trước khi chế biến.",),
        ),
        _T(
            "Chả cá lóc {origin}",
            "gói",
            (120_000, 160_000),
            520,
            packs=_packs("gói", ("gói 500 g", 1.0)),
            loose=False,
            origins=FRESHWATER,
        ),
    ),
    "cha-bong-lap-xuong": (
        _T(
            "Chà bông cá lóc {origin}",
            "hũ",
            (95_000, 135_000),
            250,
            packs=_packs("hũ", ("hũ 200 g", 1.0)),
            loose=False,
            ocop=0.35,
            notes=("Chà bông tơi, mịn, thơm vị cá, rắc lên cháo, cơm hay bánh mì đều ngon.",),
        ),
        _T(
            "Chà bông tôm {origin}",
            "hũ",
            (150_000, 220_000),
            250,
            packs=_packs("hũ", ("hũ 200 g", 1.0)),
            loose=False,
            ocop=0.25,
        ),
        _T(
            "Lạp xưởng tôm {origin}",
            "kg",
            (280_000, 380_000),
            1000,
            packs=_packs("gói", ("gói 500 g", 0.5)),
            ocop=0.4,
            notes=(
                "Lạp xưởng phơi nắng vừa tới, khi chiên thơm mùi tôm và rượu mai quế lộ.",
                "Chiên lửa nhỏ hoặc nướng, ăn với cơm trắng, dưa leo và đồ chua.",
            ),
        ),
        _T(
            "Lạp xưởng cá lóc {origin}",
            "kg",
            (250_000, 330_000),
            1000,
            packs=_packs("gói", ("gói 500 g", 0.5)),
            origins=FRESHWATER,
        ),
    ),
    "gao": (
        _T(
            "Gạo ST25 {origin}",
            "túi",
            (165_000, 210_000),
            5050,
            packs=RICE,
            loose=False,
            ocop=0.3,
        ),
        _T(
            "Gạo Một Bụi Đỏ Hồng Dân",
            "túi",
            (150_000, 200_000),
            5050,
            packs=RICE,
            loose=False,
            origins=("Hồng Dân",),
            ocop=0.6,
            notes=(
                "Giống lúa mùa truyền thống của Hồng Dân, hạt gạo đỏ, giàu chất xơ, "
                "hợp cho người ăn kiêng.",
            ),
        ),
        _T(
            "Gạo tôm – lúa {origin}",
            "túi",
            (140_000, 185_000),
            5050,
            packs=RICE,
            loose=False,
            origins=("Thới Bình", "U Minh", "Trần Văn Thời", "Hồng Dân", "Phước Long"),
            ocop=0.4,
            notes=("Lúa trồng một vụ trên đất nuôi tôm, không dùng thuốc trừ sâu hóa học.",),
        ),
        _T(
            "Gạo nếp sáp {origin}",
            "túi",
            (45_000, 65_000),
            2020,
            packs=_packs("túi", ("túi 2 kg", 1.0)),
            loose=False,
        ),
    ),
    "trai-cay": (
        _T(
            "Khóm {origin}",
            "kg",
            (15_000, 25_000),
            1000,
            grades=("trái lớn", "loại 1"),
            origins=("Trần Văn Thời", "U Minh", "Khánh Bình"),
            ocop=0.2,
            notes=("Khóm trồng trên đất phèn nên trái nhỏ, thơm đậm và ngọt thanh.",),
        ),
        _T("Chuối xiêm {origin}", "kg", (18_000, 30_000), 1000),
        _T("Mãng cầu xiêm {origin}", "kg", (35_000, 60_000), 1000),
        _T("Mít Thái {origin}", "kg", (25_000, 40_000), 1000),
    ),
    "rau-cu": (
        _T(
            "Bồn bồn tươi {origin}",
            "bó",
            (25_000, 40_000),
            550,
            origins=("Thới Bình", "U Minh"),
            notes=(
                "Bồn bồn là đặc sản vùng ngọt hóa Thới Bình, U Minh, thân trắng giòn, vị ngọt nhẹ.",
            ),
        ),
        _T(
            "Dưa bồn bồn chua ngọt {origin}",
            "hũ",
            (45_000, 70_000),
            550,
            packs=_packs("hũ", ("hũ 500 g", 1.0)),
            loose=False,
            origins=("Thới Bình", "U Minh"),
            ocop=0.45,
            notes=(
                "Bồn bồn được muối chua với đường, tỏi, ớt theo công thức của phụ nữ địa phương.",
            ),
        ),
        _T("Bông điên điển {origin}", "kg", (40_000, 70_000), 1000),
        _T("Rau choại {origin}", "bó", (15_000, 25_000), 400, origins=("U Minh", "Trần Văn Thời")),
    ),
    "mat-ong": (
        _T(
            "Mật ong rừng U Minh nguyên chất",
            "chai",
            (280_000, 450_000),
            1450,
            packs=HONEY,
            loose=False,
            origins=("U Minh", "Khánh An", "Khánh Lâm", "Nguyễn Phích"),
            ocop=0.55,
        ),
        _T(
            "Mật ong hoa tràm {origin}",
            "chai",
            (240_000, 380_000),
            1450,
            packs=HONEY,
            loose=False,
            ocop=0.35,
        ),
        _T(
            "Mật ong gác kèo {origin}",
            "chai",
            (180_000, 280_000),
            750,
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            origins=("U Minh", "Trần Văn Thời"),
            ocop=0.4,
        ),
        _T(
            "Mật ong sáp rừng {origin}",
            "hộp",
            (180_000, 280_000),
            550,
            packs=_packs("hộp", ("hộp 500 g", 1.0)),
            loose=False,
        ),
    ),
    "phan-hoa-sua-ong-chua": (
        _T(
            "Phấn hoa tràm {origin}",
            "hũ",
            (90_000, 150_000),
            250,
            packs=_packs("hũ", ("hũ 200 g", 1.0)),
            loose=False,
            ocop=0.2,
        ),
        _T(
            "Sữa ong chúa tươi {origin}",
            "hũ",
            (120_000, 220_000),
            150,
            packs=_packs("hũ", ("hũ 100 g", 1.0)),
            loose=False,
        ),
        _T(
            "Sáp ong nguyên chất {origin}",
            "gói",
            (100_000, 160_000),
            520,
            packs=_packs("gói", ("gói 500 g", 1.0)),
            loose=False,
        ),
    ),
    "tinh-dau-tram": (
        _T(
            "Tinh dầu tràm {origin} nguyên chất",
            "chai",
            (60_000, 120_000),
            130,
            packs=_packs("chai", ("chai 100 ml", 1.0)),
            loose=False,
            ocop=0.45,
        ),
        _T(
            "Dầu tràm cho bé {origin}",
            "chai",
            (45_000, 80_000),
            80,
            packs=_packs("chai", ("chai 50 ml", 1.0)),
            loose=False,
            ocop=0.3,
        ),
        _T(
            "Xịt chống muỗi tinh dầu tràm {origin}",
            "chai",
            (55_000, 90_000),
            150,
            packs=_packs("chai", ("chai 100 ml", 1.0)),
            loose=False,
            ocop=0.2,
        ),
    ),
    "dan-lat-lac": (
        _T(
            "Giỏ lác đan tay {origin}",
            "cái",
            (60_000, 180_000),
            300,
            grades=("cỡ nhỏ", "cỡ vừa", "cỡ lớn"),
            ocop=0.2,
        ),
        _T(
            "Chiếu lác {origin}",
            "cái",
            (250_000, 600_000),
            1800,
            grades=("khổ 1,6 m", "khổ 1,8 m"),
            ocop=0.3,
        ),
        _T(
            "Túi xách lác {origin}",
            "cái",
            (120_000, 280_000),
            350,
            grades=("quai da", "quai gỗ", "thêu hoa"),
        ),
        _T(
            "Hộp đựng đồ bằng lác {origin}",
            "cái",
            (80_000, 160_000),
            250,
            grades=("dáng vuông", "dáng tròn"),
        ),
    ),
    "dan-bang": (
        _T(
            "Túi xách cỏ bàng {origin}",
            "cái",
            (150_000, 350_000),
            350,
            grades=("quai tre", "quai da", "thêu hoa"),
            ocop=0.3,
        ),
        _T(
            "Nón cỏ bàng {origin}",
            "cái",
            (80_000, 180_000),
            200,
            grades=("vành rộng", "vành nhỏ"),
        ),
        _T(
            "Giỏ cỏ bàng {origin}",
            "cái",
            (90_000, 200_000),
            300,
            grades=("cỡ nhỏ", "cỡ vừa"),
        ),
        _T(
            "Thảm cỏ bàng {origin}",
            "cái",
            (200_000, 450_000),
            1200,
            grades=("tròn 60 cm", "60 × 90 cm"),
        ),
    ),
    "dan-luc-binh": (
        _T(
            "Giỏ lục bình đan tay {origin}",
            "cái",
            (120_000, 300_000),
            600,
            grades=("cỡ vừa", "cỡ lớn"),
            ocop=0.2,
        ),
        _T("Khay lục bình {origin}", "cái", (90_000, 200_000), 500, grades=("tròn", "chữ nhật")),
        _T("Ghế đôn lục bình {origin}", "cái", (350_000, 800_000), 3500),
        _T("Sọt đựng đồ lục bình {origin}", "cái", (150_000, 320_000), 900),
    ),
    "do-go-my-nghe": (
        _T(
            "Mô hình ghe bầu bằng gỗ",
            "cái",
            (350_000, 1_200_000),
            1500,
            grades=("dài 40 cm", "dài 60 cm"),
        ),
        _T(
            "Đũa gỗ đước {origin}",
            "bó",
            (40_000, 80_000),
            300,
            packs=_packs("bó", ("bó 10 đôi", 1.0)),
            loose=False,
        ),
        _T(
            "Thớt gỗ tràm {origin}",
            "cái",
            (80_000, 180_000),
            1200,
            grades=("tròn 30 cm", "chữ nhật"),
        ),
        _T("Khay trà gỗ {origin}", "cái", (150_000, 350_000), 900),
    ),
    "ruou-dac-san": (
        _T(
            "Rượu trái giác U Minh",
            "chai",
            (120_000, 220_000),
            900,
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            origins=("U Minh", "Khánh An", "Nguyễn Phích"),
            ocop=0.5,
            notes=(
                "Trái giác là loại dây leo mọc trong rừng tràm U Minh, chín vào mùa nước, "
                "vị chua ngọt đặc trưng.",
                "Rượu có màu đỏ tím tự nhiên, độ cồn nhẹ, uống lạnh rất dễ chịu.",
            ),
        ),
        _T(
            "Rượu mật ong {origin}",
            "chai",
            (150_000, 250_000),
            900,
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            origins=FOREST,
            ocop=0.3,
        ),
        _T(
            "Rượu nếp than {origin}",
            "chai",
            (80_000, 150_000),
            900,
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            ocop=0.25,
        ),
        _T(
            "Rượu khóm {origin}",
            "chai",
            (90_000, 160_000),
            900,
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            origins=("Trần Văn Thời", "Khánh Bình"),
        ),
    ),
    "tra-thao-moc": (
        _T(
            "Trà khổ qua rừng túi lọc {origin}",
            "hộp",
            (60_000, 120_000),
            250,
            grades=("hộp 25 túi", "hộp 50 túi"),
            ocop=0.3,
        ),
        _T("Trà mãng cầu xiêm {origin}", "hộp", (70_000, 130_000), 250, ocop=0.25),
        _T(
            "Trà gạo lứt rang {origin}",
            "hộp",
            (50_000, 90_000),
            550,
            packs=_packs("hộp", ("hộp 500 g", 1.0)),
            loose=False,
        ),
        _T(
            "Trà gừng mật ong {origin}",
            "hũ",
            (70_000, 120_000),
            400,
            packs=_packs("hũ", ("hũ 300 g", 1.0)),
            loose=False,
        ),
    ),
    "nuoc-giai-khat": (
        _T(
            "Nước ép khóm nguyên chất {origin}",
            "chai",
            (25_000, 40_000),
            380,
            packs=_packs("chai", ("chai 330 ml", 1.0)),
            loose=False,
            origins=("Trần Văn Thời", "Khánh Bình"),
            ocop=0.2,
        ),
        _T(
            "Nước mãng cầu xiêm {origin}",
            "chai",
            (30_000, 45_000),
            380,
            packs=_packs("chai", ("chai 330 ml", 1.0)),
            loose=False,
        ),
        _T(
            "Nước dừa đóng chai {origin}",
            "chai",
            (22_000, 35_000),
            380,
            packs=_packs("chai", ("chai 330 ml", 1.0)),
            loose=False,
        ),
    ),
    "hop-qua-dac-san": (
        _T(
            "Hộp quà đặc sản Cà Mau",
            "hộp",
            (450_000, 1_200_000),
            2000,
            grades=("tôm khô – khô cá – mật ong", "ba món khô", "hộp gỗ cao cấp"),
            origins=("Cà Mau",),
        ),
        _T(
            "Hộp quà tôm khô Rạch Gốc cao cấp",
            "hộp",
            (700_000, 1_500_000),
            800,
            origins=("Rạch Gốc",),
            ocop=0.3,
        ),
        _T("Set quà mật ong U Minh", "hộp", (350_000, 700_000), 1800, origins=("U Minh",)),
        _T("Hộp quà khô cá đồng {origin}", "hộp", (400_000, 800_000), 1500, origins=FRESHWATER),
    ),
    "gio-qua-tet": (
        _T(
            "Giỏ quà Tết đặc sản Mũi Cà Mau",
            "cái",
            (600_000, 2_500_000),
            3500,
            grades=("mẫu Phú Quý", "mẫu An Khang", "mẫu Như Ý"),
        ),
        _T(
            "Giỏ quà Tết lục bình",
            "cái",
            (800_000, 1_800_000),
            3000,
            grades=("mẫu Phát Lộc", "mẫu Vạn Phúc"),
        ),
        _T("Giỏ quà Tết sum vầy", "cái", (500_000, 1_200_000), 2500),
    ),
    "qua-luu-niem": (
        _T(
            "Móc khóa Mũi Cà Mau",
            "cái",
            (20_000, 50_000),
            40,
            grades=("gỗ khắc laser", "mica"),
            origins=("Đất Mũi", "Cà Mau"),
        ),
        _T(
            "Mô hình cột mốc tọa độ quốc gia",
            "cái",
            (120_000, 250_000),
            500,
            origins=("Đất Mũi",),
        ),
        _T("Nón lá vẽ tay Đất Mũi", "cái", (60_000, 120_000), 250, origins=("Đất Mũi",)),
        _T(
            "Tranh gỗ đước phong cảnh Đất Mũi",
            "cái",
            (180_000, 450_000),
            900,
            grades=("30 × 40 cm", "40 × 60 cm"),
        ),
    ),
    "banh-truyen-thong": (
        _T("Bánh tét nhân tôm khô {origin}", "cái", (120_000, 200_000), 1200, ocop=0.2),
        _T(
            "Bánh phồng nếp {origin}",
            "gói",
            (40_000, 70_000),
            500,
            packs=_packs("gói", ("gói 10 cái", 1.0)),
            loose=False,
        ),
        _T(
            "Bánh pía sầu riêng trứng muối {origin}",
            "hộp",
            (70_000, 120_000),
            500,
            packs=_packs("hộp", ("hộp 4 cái", 1.0)),
            loose=False,
            origins=("Bạc Liêu", "Vĩnh Lợi"),
            ocop=0.2,
        ),
        _T("Bánh in đậu xanh {origin}", "hộp", (45_000, 80_000), 300),
    ),
    "mut-keo": (
        _T(
            "Chuối sấy dẻo {origin}",
            "gói",
            (55_000, 90_000),
            520,
            packs=_packs("gói", ("gói 500 g", 1.0)),
            loose=False,
            ocop=0.45,
        ),
        _T("Mứt chuối {origin}", "hộp", (60_000, 100_000), 550),
        _T("Kẹo chuối {origin}", "gói", (40_000, 70_000), 420),
        _T("Mứt mãng cầu xiêm {origin}", "hộp", (70_000, 120_000), 550, ocop=0.2),
    ),
    "do-an-vat": (
        _T(
            "Khô cá bổi tẩm gia vị {origin}",
            "gói",
            (55_000, 90_000),
            220,
            packs=_packs("gói", ("gói 200 g", 1.0)),
            loose=False,
            origins=("Sông Đốc", "Khánh Bình", "Gành Hào"),
        ),
        _T(
            "Mực xé sợi hấp nước dừa {origin}",
            "gói",
            (150_000, 230_000),
            220,
            packs=_packs("gói", ("gói 200 g", 1.0)),
            loose=False,
            origins=FISHING_PORTS,
            ocop=0.25,
        ),
        _T(
            "Tôm khô rim me {origin}",
            "hũ",
            (110_000, 180_000),
            280,
            packs=_packs("hũ", ("hũ 250 g", 1.0)),
            loose=False,
            origins=MANGROVE,
        ),
        _T(
            "Da cá chiên giòn trứng muối {origin}",
            "gói",
            (45_000, 75_000),
            120,
            packs=_packs("gói", ("gói 100 g", 1.0)),
            loose=False,
        ),
    ),
    "nuoc-mam": (
        _T(
            "Nước mắm cá cơm {origin}",
            "chai",
            (45_000, 90_000),
            650,
            grades=("30 độ đạm", "35 độ đạm"),
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            ocop=0.3,
        ),
        _T(
            "Nước mắm nhĩ {origin}",
            "chai",
            (80_000, 140_000),
            650,
            grades=("40 độ đạm",),
            packs=_packs("chai", ("chai 500 ml", 1.0)),
            loose=False,
            ocop=0.3,
        ),
    ),
    "muoi": (
        _T(
            "Muối hột {origin}",
            "gói",
            (10_000, 25_000),
            1050,
            packs=_packs("gói", ("gói 1 kg", 1.0)),
            loose=False,
            ocop=0.25,
        ),
        _T(
            "Muối tôm {origin}",
            "hũ",
            (40_000, 70_000),
            270,
            packs=_packs("hũ", ("hũ 250 g", 1.0)),
            loose=False,
            origins=TOWNS,
        ),
        _T(
            "Muối ớt xanh chấm hải sản {origin}",
            "chai",
            (35_000, 60_000),
            300,
            packs=_packs("chai", ("chai 250 ml", 1.0)),
            loose=False,
            origins=TOWNS,
        ),
        _T("Muối sả ớt {origin}", "hũ", (30_000, 50_000), 250, origins=TOWNS),
    ),
    "sa-te-nuoc-cham": (
        _T(
            "Sa tế tôm {origin}",
            "hũ",
            (40_000, 70_000),
            230,
            packs=_packs("hũ", ("hũ 200 g", 1.0)),
            loose=False,
        ),
        _T(
            "Nước chấm hải sản {origin}",
            "chai",
            (30_000, 55_000),
            350,
            packs=_packs("chai", ("chai 300 ml", 1.0)),
            loose=False,
        ),
        _T(
            "Nước mắm me {origin}",
            "chai",
            (35_000, 60_000),
            350,
            packs=_packs("chai", ("chai 300 ml", 1.0)),
            loose=False,
        ),
    ),
}

# Where a leaf's products come from when the template does not say.
LEAF_ORIGINS: dict[str, tuple[str, ...]] = {
    "tom-tuoi": SEA,
    "cua-ghe": MANGROVE,
    "ca-tuoi": SEA,
    "muc-tuoi": FISHING_PORTS,
    "ngheu-so-oc": ("Đất Mũi", "Ngọc Hiển", "Tam Giang", "Năm Căn", "Đông Hải", "Gành Hào"),
    "kho-ca": ("U Minh", "Thới Bình", "Trần Văn Thời", "Sông Đốc", "Hồng Dân"),
    "tom-kho": ("Rạch Gốc", "Năm Căn", "Đầm Dơi", "Tam Giang", "Cái Đôi Vàm", "Gành Hào"),
    "kho-muc": ("Sông Đốc", "Gành Hào", "Đất Mũi"),
    "mam-ba-khia": ("Rạch Gốc", "Ngọc Hiển", "U Minh", "Thới Bình"),
    "cha-ca-banh-phong-tom": ("Cà Mau", "Năm Căn", "Đầm Dơi", "Cái Nước", "Bạc Liêu", "Giá Rai"),
    "cha-bong-lap-xuong": ("Cà Mau", "Cái Nước", "Trần Văn Thời", "Bạc Liêu", "Giá Rai"),
    "gao": ("Hồng Dân", "Thới Bình", "Phước Long", "Vĩnh Lợi", "Trần Văn Thời"),
    "trai-cay": ("Trần Văn Thời", "U Minh", "Thới Bình", "Vĩnh Lợi", "Giá Rai", "Cái Nước"),
    "rau-cu": ("Thới Bình", "U Minh", "Trần Văn Thời", "Cái Nước", "Hồng Dân"),
    "mat-ong": FOREST,
    "phan-hoa-sua-ong-chua": ("U Minh", "Trần Văn Thời", "Khánh An"),
    "tinh-dau-tram": ("U Minh", "Trần Văn Thời", "Khánh An", "Khánh Lâm"),
    "dan-lat-lac": ("Thới Bình", "Tân Lộc", "U Minh"),
    "dan-bang": ("U Minh", "Khánh An", "Khánh Lâm", "Nguyễn Phích", "Trần Văn Thời"),
    "dan-luc-binh": ("Hồng Dân", "Phước Long", "Thới Bình", "Vĩnh Lợi"),
    "do-go-my-nghe": ("Cà Mau", "Năm Căn", "Bạc Liêu", "Cái Nước", "Đầm Dơi"),
    "ruou-dac-san": ("U Minh", "Thới Bình", "Trần Văn Thời", "Bạc Liêu", "Hồng Dân"),
    "tra-thao-moc": ("Cà Mau", "U Minh", "Trần Văn Thời", "Thới Bình", "Bạc Liêu"),
    "nuoc-giai-khat": ("Trần Văn Thời", "U Minh", "Cà Mau", "Bạc Liêu", "Giá Rai"),
    "hop-qua-dac-san": ("Cà Mau", "Năm Căn", "Rạch Gốc", "U Minh", "Bạc Liêu", "Đất Mũi"),
    "gio-qua-tet": ("Cà Mau", "Bạc Liêu", "Đất Mũi", "Năm Căn"),
    "qua-luu-niem": ("Đất Mũi", "Cà Mau", "Năm Căn", "Bạc Liêu"),
    "banh-truyen-thong": ("Cà Mau", "Bạc Liêu", "Hồng Dân", "Giá Rai", "Cái Nước"),
    "mut-keo": ("Cà Mau", "U Minh", "Trần Văn Thời", "Bạc Liêu", "Thới Bình"),
    "do-an-vat": ("Sông Đốc", "Cà Mau", "Gành Hào", "Đất Mũi", "U Minh"),
    "nuoc-mam": ("Sông Đốc", "Gành Hào", "Đông Hải", "Khánh Bình", "Bạc Liêu"),
    "muoi": SALT,
    "sa-te-nuoc-cham": ("Cà Mau", "Bạc Liêu", "Năm Căn", "Sông Đốc"),
}

# 4–8 sentences per leaf, mixed into descriptions; {origin} is the product's locality.
LEAF_SENTENCES: dict[str, tuple[str, ...]] = {
    "tom-tuoi": (
        "Tôm được thu hoạch từ vuông tôm quảng canh ở {origin}, nơi nước lợ dưới tán rừng "
        "đước giúp thịt tôm chắc và ngọt.",
        "Vuông nuôi không dùng thức ăn công nghiệp, tôm lớn tự nhiên theo con nước.",
        "Tôm còn sống được ướp đá ngay khi thu hoạch nên giữ nguyên độ tươi.",
        "Thịt tôm dai, vỏ mỏng, hợp để hấp nước dừa, nướng muối ớt hay nấu lẩu.",
        "Cơ sở nhận đặt số lượng lớn cho nhà hàng và tiệc cưới.",
    ),
    "cua-ghe": (
        "Cua được bắt trong rừng đước {origin}, nơi con nước lớn ròng nuôi cua chắc thịt, "
        "nhiều gạch.",
        "Mỗi con cua được buộc dây, kiểm tra còn khỏe trước khi giao.",
        "Cua Cà Mau nổi tiếng thịt ngọt, gạch son béo, hấp bia hay rang me đều ngon.",
        "Cân không tính dây buộc, đổi trả nếu cua chết khi nhận hàng.",
        "Cua sống được vài ngày ở nơi thoáng mát nếu giữ ẩm bằng khăn.",
        "Hàng đi tỉnh được xếp thùng xốp giữ ẩm, vận chuyển dưới 36 giờ.",
    ),
    "ca-tuoi": (
        "Cá được đánh bắt trong ngày ở vùng {origin} và ướp đá lạnh ngay tại ghe.",
        "Thịt cá trắng, thơm, không có mùi bùn nhờ sống trong môi trường tự nhiên.",
        "Khách có thể yêu cầu làm sạch, cắt khúc hoặc để nguyên con trước khi giao.",
        "Cá hợp để kho tộ, nấu canh chua, nướng trui hay nấu lẩu mắm.",
        "Hàng gửi đi tỉnh xa được hút chân không và cấp đông.",
        "Giá theo cân thực tế, cửa hàng báo lại trước khi giao nếu có chênh lệch.",
    ),
    "muc-tuoi": (
        "Mực do tàu câu ở {origin} đưa về trong đêm, thân còn trong và mắt sáng.",
        "Thịt mực dày, giòn và ngọt, hợp để hấp gừng, nướng sa tế hay xào chua ngọt.",
        "Mực được làm sạch túi mực theo yêu cầu và chia túi theo từng phần nấu.",
        "Hàng được cấp đông nhanh để giữ độ giòn khi rã đông.",
        "Mùa mực ngon nhất từ tháng 3 đến tháng 8, khi biển Tây lặng gió.",
    ),
    "ngheu-so-oc": (
        "Hàng được khai thác trên bãi bồi và rừng ngập mặn {origin}, ngâm nước sạch cho "
        "nhả cát trước khi đóng gói.",
        "Con còn sống, vỏ khép chặt, thịt béo và ngọt tự nhiên.",
        "Hợp để hấp sả, nướng mỡ hành, nấu cháo hay xào me.",
        "Bãi bồi Mũi Cà Mau được khai thác theo mùa để con giống kịp lớn.",
        "Nên chế biến trong vòng 24 giờ sau khi nhận để giữ trọn vị ngọt.",
    ),
    "kho-ca": (
        "Cá được làm sạch, xẻ bướm và ướp muối nhạt theo cách làm truyền thống của người {origin}.",
        "Khô phơi nắng tự nhiên trên giàn cao, có lưới che bụi.",
        "Không dùng chất bảo quản, không hàn the, màu khô vàng ươm tự nhiên.",
        "Thịt khô dày, mềm, chiên hay nướng đều thơm, ăn với cơm trắng hay nhâm nhi đều hợp.",
        "Khô một nắng nên để ngăn đông và dùng dần trong 3 tháng.",
        "Mỗi mẻ chỉ làm vài chục ký để chất lượng luôn đồng đều.",
        "Hàng được hút chân không nên gửi đi tỉnh không lo ám mùi.",
    ),
    "tom-kho": (
        "Tôm nuôi quảng canh trong rừng đước {origin} được luộc nước muối, phơi nắng rồi "
        "chà sạch vỏ theo cách làm thủ công.",
        "Tôm khô có màu đỏ cam tự nhiên, thịt chắc, ngọt đậm, không nhuộm phẩm màu.",
        "Con tôm được lựa đều cỡ, loại bỏ vụn và tạp chất trước khi đóng gói.",
        "Dùng để nấu canh, làm gỏi, rim nước mắm hay ăn với củ kiệu ngày Tết.",
        "Khoảng 5 ký tôm tươi mới làm được 1 ký tôm khô thành phẩm.",
        "Bảo quản nơi khô ráo hoặc ngăn mát tủ lạnh, ngon nhất trong 6 tháng.",
    ),
    "kho-muc": (
        "Mực câu ở vùng biển {origin} được xẻ, rửa nước biển rồi phơi ngay trong ngày.",
        "Khô mực dày thịt, thơm mùi biển, nướng lên ngọt và dai vừa.",
        "Không tẩm đường, không chất bảo quản, giữ màu trắng ngà tự nhiên.",
        "Nướng than hồng rồi xé sợi, chấm tương ớt là món nhậu quen thuộc.",
        "Khô mực được đóng túi hút chân không, để ngăn mát dùng được nhiều tháng.",
    ),
    "mam-ba-khia": (
        "Nguyên liệu tươi được làm sạch rồi ủ muối trong lu sành theo công thức gia truyền "
        "ở {origin}.",
        "Mắm ủ đủ ngày mới đóng hũ, vị mặn dịu, thơm đặc trưng miền sông nước.",
        "Hũ nhựa thực phẩm có màng co, đóng thùng kỹ nên không lo đổ khi gửi xa.",
        "Ăn với cơm nóng, rau sống, dưa leo hoặc trộn chua ngọt với tỏi ớt.",
        "Sau khi mở nắp nên để ngăn mát tủ lạnh và dùng muỗng khô.",
    ),
    "cha-ca-banh-phong-tom": (
        "Sản phẩm làm từ nguyên liệu tươi đánh bắt quanh {origin}, không pha bột độn.",
        "Quy trình làm thủ công kết hợp máy móc, bảo đảm vệ sinh an toàn thực phẩm.",
        "Bao bì kín, ghi rõ hạn sử dụng và mã lô.",
        "Cơ sở nhận làm hàng theo đơn cho cửa hàng đặc sản và siêu thị.",
    ),
    "cha-bong-lap-xuong": (
        "Nguyên liệu chọn từ cá, tôm tươi của bà con {origin}, sơ chế kỹ trong ngày.",
        "Không dùng hàn the, phẩm màu hay chất bảo quản tổng hợp.",
        "Vị vừa ăn, hợp cho cả trẻ nhỏ lẫn người lớn tuổi.",
        "Đậy kín sau khi dùng, bảo quản nơi khô mát hoặc ngăn mát tủ lạnh.",
    ),
    "gao": (
        "Gạo được xay xát theo từng đợt giao hàng nên giữ mùi thơm tự nhiên.",
        "Cơm dẻo vừa, hạt ráo, để nguội vẫn mềm.",
        "Bao bì hút chân không, in ngày đóng gói và hạn sử dụng.",
        "Nông dân {origin} canh tác theo quy trình sạch, có ghi chép nhật ký đồng ruộng.",
        "Bảo quản nơi khô thoáng, tránh ánh nắng trực tiếp.",
    ),
    "trai-cay": (
        "Trái được thu hoạch tại vườn ở {origin} vào buổi sáng và giao ngay trong ngày.",
        "Vườn bón phân hữu cơ là chính, hạn chế thuốc bảo vệ thực vật.",
        "Trái được lựa kỹ, loại bỏ trái dập trước khi đóng thùng.",
        "Ăn tươi, ép nước hay làm sinh tố đều thơm ngon.",
        "Giá theo ký, cửa hàng cân đủ và gửi hình trước khi giao.",
    ),
    "rau-cu": (
        "Rau được hái tại ruộng, vườn ở {origin} vào sáng sớm nên còn xanh giòn.",
        "Rau mọc tự nhiên hoặc trồng không phân bón hóa học, đúng vị rau quê miền Tây.",
        "Rau được bó gọn, đóng túi có lỗ thoáng để không bị úng khi vận chuyển.",
        "Hợp để xào tỏi, nấu canh chua, làm gỏi hay ăn kèm lẩu mắm.",
    ),
    "mat-ong": (
        "Mật được thu từ kèo ong trong rừng tràm {origin} theo nghề gác kèo truyền thống.",
        "Ong hút mật chủ yếu từ hoa tràm nên mật có màu vàng sẫm, ngọt thanh, hậu hơi chát.",
        "Cam kết mật nguyên chất, không pha đường, không nấu cô đặc.",
        "Mật có thể kết tinh khi trời lạnh, ngâm chai vào nước ấm là tan.",
        "Dùng pha nước ấm buổi sáng, pha chanh, ngâm gừng hoặc ăn với bánh mì.",
        "Mùa mật chính từ tháng 3 đến tháng 5, khi rừng tràm trổ bông rộ.",
        "Không dùng cho trẻ dưới 1 tuổi.",
    ),
    "phan-hoa-sua-ong-chua": (
        "Sản phẩm lấy từ các trại ong nuôi dưới tán rừng tràm {origin}.",
        "Thu hoạch thủ công, sấy lạnh và đóng hũ tại cơ sở đạt chuẩn an toàn thực phẩm.",
        "Có thể dùng với mật ong, sữa chua hoặc sinh tố.",
        "Sữa ong chúa cần để ngăn đông và lấy bằng muỗng gỗ hoặc nhựa.",
        "Người dị ứng phấn hoa nên thử lượng nhỏ trước khi dùng thường xuyên.",
    ),
    "tinh-dau-tram": (
        "Lá tràm gió được thu hái ở rừng {origin} rồi chưng cất bằng hơi nước theo cách "
        "truyền thống.",
        "Tinh dầu có mùi thơm the mát, giúp giữ ấm cơ thể và xua côn trùng.",
        "Thường dùng thoa ngực, lòng bàn chân cho trẻ nhỏ hoặc xông phòng.",
        "Chai thủy tinh màu hổ phách có nút nhỏ giọt, tiện mang theo.",
        "Không thoa lên vết thương hở và để xa tầm tay trẻ em.",
    ),
    "dan-lat-lac": (
        "Cây lác trồng ở {origin} được cắt, chẻ sợi và phơi khô trước khi đan.",
        "Mỗi sản phẩm do thợ làng nghề đan tay, mất từ một đến vài ngày.",
        "Sợi lác bền, mát, màu vàng tự nhiên và thoảng mùi cỏ khô.",
        "Nhận nhuộm màu, gắn logo và làm số lượng lớn cho quà tặng doanh nghiệp.",
        "Tránh để nơi ẩm thấp lâu ngày, lau bằng khăn khô để giữ sợi đẹp.",
        "Mua sản phẩm là góp phần giữ nghề và tạo việc làm cho phụ nữ nông thôn.",
    ),
    "dan-bang": (
        "Cỏ bàng mọc ở vùng đất trũng {origin} được nhổ, phơi rồi đập dẹp thành sợi mềm.",
        "Nghề đan bàng gắn bó với phụ nữ vùng U Minh Hạ đã hơn trăm năm.",
        "Sản phẩm nhẹ, bền, thoáng khí, hợp đi biển, dạo phố hay làm quà.",
        "Mỗi món đều đan tay nên họa tiết có thể khác nhau đôi chút.",
        "Tránh ngâm nước lâu, phơi nơi thoáng gió nếu bị ẩm.",
    ),
    "dan-luc-binh": (
        "Lục bình vớt trên kênh rạch {origin} được phơi khô, se sợi rồi đan trên khung.",
        "Khung sắt sơn tĩnh điện hoặc khung tre giúp sản phẩm đứng dáng, dùng lâu năm.",
        "Sản phẩm thân thiện môi trường, tận dụng loài cây mọc dày trên sông.",
        "Hợp trang trí homestay, quán cà phê hay nhà theo phong cách mộc.",
        "Cơ sở nhận gia công theo mẫu và đơn hàng xuất khẩu.",
    ),
    "do-go-my-nghe": (
        "Gỗ lấy từ rừng trồng đến tuổi khai thác, sấy khô chống cong vênh.",
        "Thợ mộc {origin} gia công tỉ mỉ, chà nhám kỹ và phủ dầu tự nhiên.",
        "Màu gỗ tự nhiên, vân đẹp, càng dùng càng lên nước.",
        "Hợp làm quà tặng, trưng bày hoặc dùng hằng ngày.",
        "Nhận khắc tên, logo theo yêu cầu với đơn từ 20 sản phẩm.",
    ),
    "ruou-dac-san": (
        "Rượu được nấu và ủ thủ công tại {origin} theo công thức gia truyền.",
        "Men lá tự làm, ủ trong chum sành nhiều tháng cho rượu êm và dậy mùi.",
        "Chai thủy tinh có tem truy xuất nguồn gốc, đóng hộp giấy chống sốc khi giao.",
        "Sản phẩm dành cho người trên 18 tuổi, đã uống rượu thì không lái xe.",
    ),
    "tra-thao-moc": (
        "Nguyên liệu trồng và thu hái tại {origin}, sơ chế sạch, sấy lạnh để giữ màu và hương.",
        "Không hương liệu, không phẩm màu, không chất bảo quản.",
        "Pha với nước sôi từ 3 đến 5 phút, uống nóng hoặc thêm đá đều ngon.",
        "Thức uống thảo mộc quen thuộc của người miền Tây, dịu nhẹ và dễ uống.",
        "Bảo quản nơi khô ráo, đậy kín sau khi mở.",
    ),
    "nuoc-giai-khat": (
        "Trái cây tươi ở {origin} được ép và thanh trùng ngay trong ngày.",
        "Không pha nước, ít đường, giữ vị tự nhiên của trái.",
        "Uống lạnh ngon hơn, lắc đều trước khi dùng.",
        "Chai đã mở nên để ngăn mát và dùng hết trong 24 giờ.",
        "Có thùng 12 hoặc 24 chai cho quán cà phê, nhà hàng.",
    ),
    "hop-qua-dac-san": (
        "Hộp quà gom những đặc sản tiêu biểu của {origin}, đóng gói trang nhã để biếu tặng.",
        "Mỗi món bên trong đều có nguồn gốc rõ ràng, nhiều món là sản phẩm OCOP của tỉnh.",
        "Hộp cứng có quai xách, lót giấy rơm, kèm thiệp chúc viết tay theo yêu cầu.",
        "Hợp làm quà Tết, quà tân gia hay quà cho đối tác.",
        "Nhận in logo doanh nghiệp với đơn từ 30 hộp, giao toàn quốc.",
    ),
    "gio-qua-tet": (
        "Giỏ quà gồm tôm khô, khô cá, mật ong, bánh phồng tôm và trà, tùy mẫu.",
        "Giỏ đan bằng lục bình hoặc lác của làng nghề địa phương, dùng lại được sau Tết.",
        "Trang trí nơ đỏ, thiệp chúc Tết và bọc màng kính.",
        "Nhận đặt trước từ tháng Chạp, giao tận nơi trong tỉnh.",
        "Có thể đổi thành phần theo ngân sách của khách.",
    ),
    "qua-luu-niem": (
        "Quà lưu niệm mang hình ảnh Đất Mũi, điểm cực Nam của Tổ quốc.",
        "Làm thủ công bởi các cơ sở nhỏ ở {origin}, mỗi món một nét riêng.",
        "Nhỏ gọn, dễ mang theo sau chuyến du lịch Cà Mau.",
        "Giá tốt khi mua số lượng cho đoàn khách và sự kiện.",
    ),
    "banh-truyen-thong": (
        "Bánh làm thủ công tại {origin} theo cách của các bà, các mẹ miền Tây.",
        "Nếp, đậu xanh, dừa đều mua từ nông dân địa phương.",
        "Không chất bảo quản nên hạn dùng ngắn, cửa hàng làm theo đơn đặt trước.",
        "Thích hợp dùng dịp Tết, đám giỗ hay làm quà biếu.",
    ),
    "mut-keo": (
        "Chuối xiêm, mãng cầu trồng ở {origin} được chọn trái chín tới để làm mứt, sấy.",
        "Ít đường, không phẩm màu, giữ vị ngọt tự nhiên của trái.",
        "Đóng túi zip hoặc hộp có nắp, tiện mang theo khi đi xa.",
        "Món ăn vặt quen thuộc ngày Tết, hợp mời khách cùng trà nóng.",
        "Bảo quản nơi khô mát, tránh ánh nắng.",
    ),
    "do-an-vat": (
        "Món ăn vặt làm từ hải sản {origin}, chế biến sẵn, mở gói là dùng.",
        "Vị mặn ngọt cay hài hòa, hợp nhâm nhi xem phim hay làm mồi bén.",
        "Túi zip có lớp màng nhôm chống ẩm.",
        "Không dùng chất bảo quản, nên dùng hết trong 2 tuần sau khi mở.",
    ),
    "nuoc-mam": (
        "Cá cơm tươi đánh bắt ở {origin} được trộn muối hột theo tỷ lệ 3 cá 1 muối, ủ trong "
        "thùng gỗ.",
        "Chượp ủ từ 12 tháng trở lên mới rút nước cốt đầu tiên.",
        "Nước mắm màu cánh gián, thơm dịu, vị mặn đằm và hậu ngọt.",
        "Không chất điều vị, không chất bảo quản, độ đạm ghi rõ trên nhãn.",
        "Dùng chấm trực tiếp, pha nước mắm chua ngọt hoặc nêm món kho.",
    ),
    "muoi": (
        "Muối làm trên ruộng muối ven biển {origin} theo cách phơi nước biển truyền thống.",
        "Hạt muối trắng, mặn dịu, không đắng chát.",
        "Dùng muối dưa, ướp cá, rang muối hay làm muối chấm trái cây.",
        "Đóng túi, hũ kín, bảo quản nơi khô ráo để muối không chảy nước.",
    ),
    "sa-te-nuoc-cham": (
        "Công thức nước chấm của các quán hải sản {origin}, pha sẵn tiện dùng.",
        "Ớt, tỏi, sả tươi xay nhuyễn, nấu lửa nhỏ cho dậy mùi.",
        "Hợp chấm hải sản luộc, nướng, lẩu hay trộn mì.",
        "Sau khi mở nắp, bảo quản ngăn mát và dùng trong 1 tháng.",
    ),
}

# One closing line per description, by top-level category.
CLOSINGS: dict[str, tuple[str, ...]] = {
    "hai-san-tuoi-dong-lanh": (
        "Giao nhanh trong nội ô Cà Mau, đi tỉnh bằng thùng xốp giữ lạnh.",
        "Hoàn tiền nếu hàng không tươi khi nhận.",
    ),
    "kho-dac-san-che-bien": (
        "Giao hàng toàn quốc, đóng gói hút chân không không ám mùi.",
        "Nhận đóng hộp quà biếu theo yêu cầu.",
    ),
    "nong-san": (
        "Giao hàng toàn quốc, có giá sỉ cho đại lý và bếp ăn.",
        "Hàng mới thu hoạch, đổi trả nếu không đúng mô tả.",
    ),
    "mat-ong-san-pham-rung": (
        "Khách được nếm thử tại cơ sở, hoàn tiền nếu phát hiện hàng pha.",
        "Giao hàng toàn quốc, chai được bọc chống sốc kỹ.",
    ),
    "thu-cong-my-nghe": (
        "Hàng đặt theo mẫu riêng cần từ 7 đến 10 ngày để hoàn thiện.",
        "Giao hàng toàn quốc, đóng gói chống móp méo.",
    ),
    "do-uong": (
        "Giao hàng toàn quốc, chai được bọc chống sốc kỹ.",
        "Có giá sỉ cho quán và cửa hàng đặc sản.",
    ),
    "qua-tang-hop-qua": (
        "Nhận ghi thiệp và giao tận tay người nhận.",
        "Có xuất hóa đơn cho đơn hàng doanh nghiệp.",
    ),
    "banh-keo-an-vat": (
        "Giao hàng toàn quốc, có giá sỉ cho tiệm tạp hóa.",
        "Làm mới mỗi tuần nên bánh kẹo luôn thơm giòn.",
    ),
    "gia-vi-nuoc-cham": (
        "Giao hàng toàn quốc, chai hũ được quấn màng chống đổ.",
        "Có giá sỉ cho nhà hàng và quán ăn.",
    ),
}


def _with_category(
    templates: dict[str, tuple[ProductTemplate, ...]],
) -> dict[str, tuple[ProductTemplate, ...]]:
    return {
        slug: tuple(replace(template, category=slug) for template in group)
        for slug, group in templates.items()
    }


_OWN_TEMPLATES = _with_category(_TEMPLATES)
# The OCOP leaves gather every kind of product that can carry stars.
OCOP_POOL: tuple[ProductTemplate, ...] = tuple(
    template for group in _OWN_TEMPLATES.values() for template in group if template.ocop > 0
)
FIVE_STAR_POOL: tuple[ProductTemplate, ...] = tuple(
    template for template in OCOP_POOL if template.ocop >= FIVE_STAR_MIN_OCOP
)
PRODUCT_TEMPLATES: dict[str, tuple[ProductTemplate, ...]] = {
    **_OWN_TEMPLATES,
    "ocop-3-sao": OCOP_POOL,
    "ocop-4-sao": OCOP_POOL,
    "ocop-5-sao": FIVE_STAR_POOL,
}


# --- Products -----------------------------------------------------------------------------


def ean13_check_digit(first12: str) -> str:
    """Return the check digit that completes the 12 digits ``first12`` into an EAN-13."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need 12 digits, got {first12!r}")
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


def _gtin(rng: random.Random) -> str:
    body = GTIN_PREFIX_VN + "".join(str(rng.randrange(10)) for _ in range(9))
    return body + ean13_check_digit(body)


def _round_price(amount: float) -> int:
    """Round like a shop would: to 5.000 ₫ from 100.000 ₫ up, else to 1.000 ₫."""
    step = 5_000 if amount >= 100_000 else 1_000
    return max(step, round(amount / step) * step)


def _origin_label(locality: str) -> str:
    return locality if locality == "Cà Mau" else f"{locality}, Cà Mau"


def _sentence_case_after_dash(sentence: str) -> str:
    """Lower the first letter unless the sentence opens on a proper name ("U Minh …")."""
    words = sentence.split(" ", 2)
    if len(words) > 1 and words[1][:1].isupper():
        return sentence
    return sentence[:1].lower() + sentence[1:]


_WORD = re.compile(r"[^\W_]+")


def word_count(text: str) -> int:
    """Count the words (Vietnamese syllables, numbers) of a Markdown text."""
    return len(_WORD.findall(text))


_LEVEL_VI = {"province": "cấp tỉnh", "national": "cấp quốc gia"}


def _ocop(
    rng: random.Random, template: ProductTemplate, forced: int | None
) -> tuple[int | None, str | None, int | None, str | None]:
    if forced is not None:
        stars = forced
    elif rng.random() < template.ocop:
        five = 3 if template.ocop >= FIVE_STAR_MIN_OCOP else 0
        stars = rng.choices((3, 4, 5), weights=(60, 37, five))[0]
    else:
        return None, None, None, None
    level = "national" if stars == 5 else "province"
    year = rng.randint(2022 if stars == 5 else 2021, 2025)
    if level == "national":
        ministry = "BNNMT" if year >= 2025 else "BNN"
        certificate = f"{rng.randint(100, 1999)}/QĐ-{ministry}-VPĐP"
    else:
        certificate = f"{rng.randint(100, 2999)}/QĐ-UBND"
    return stars, certificate, year, level


def _describe(
    rng: random.Random,
    template: ProductTemplate,
    name: str,
    locality: str,
    quantity: str,
    ocop: tuple[int | None, str | None, int | None, str | None],
) -> str:
    # The lead is the product's own note, else the leaf's first (where-it-comes-from) line.
    own = [s.format(origin=locality) for s in template.notes]
    leaf = [s.format(origin=locality) for s in LEAF_SENTENCES[template.category]]
    lead_sentence, rest = (own[0], own[1:]) if own else (leaf[0], [])
    pool = leaf if own else leaf[1:]
    rng.shuffle(pool)
    rest += pool
    lead = f"**{name}** – {_sentence_case_after_dash(lead_sentence)}"
    bullets = [f"- Xuất xứ: {_origin_label(locality)}", f"- Quy cách: {quantity}"]
    stars, _certificate, year, level = ocop
    if stars is not None:
        bullets.append(f"- Đạt **OCOP {stars} sao** {_LEVEL_VI[level or 'province']} ({year})")
    closing = rng.choice(CLOSINGS[top_level_of(template.category)])

    def render(body: list[str]) -> str:
        paragraph = " ".join([lead, *body])
        return "\n\n".join([paragraph, "\n".join(bullets), closing])

    body: list[str] = []
    text = render(body)
    target = rng.randint(45, 62)
    for sentence in rest:
        if word_count(text) >= target:
            break
        candidate = render([*body, sentence])
        if word_count(candidate) > 72:
            continue
        body.append(sentence)
        text = candidate
    return text


def _draw_product(
    rng: random.Random, template: ProductTemplate, category_slug: str, forced: int | None
) -> ProductProfile:
    locality = rng.choice(template.origins or LEAF_ORIGINS[template.category])
    name = template.name.format(origin=locality)
    if template.grades and rng.random() < 0.75:
        name = f"{name} {rng.choice(template.grades)}"
    options: list[Pack | None] = list(template.packs)
    if template.loose or not options:
        options.insert(0, None)
    pack = rng.choice(options)
    factor = pack.factor if pack else 1.0
    unit = pack.unit if pack else template.unit
    if pack:
        name = f"{name} ({pack.label})"
    low, high = template.price
    # Small packs cost a little more per gram, as they do at the market.
    premium = 1.08 if factor < 1 else 1.0
    price = _round_price(rng.uniform(low, high) * factor * premium)
    grams = round(template.grams * factor) + (40 if pack and factor < 1 else 0)
    compare_at = None
    if rng.random() < 0.2:
        compare_at = _round_price(price * rng.uniform(1.1, 1.35))
        if compare_at <= price:
            compare_at = price + (5_000 if price >= 100_000 else 1_000)
    if rng.random() < 0.05:
        stock = 0
    elif price >= 500_000:
        stock = rng.randint(2, 40)
    else:
        stock = rng.randint(10, 300)
    ocop = _ocop(rng, template, forced)
    quantity = pack.label if pack else f"1 {unit}"
    description = _describe(rng, template, name, locality, quantity, ocop)
    gtin = _gtin(rng) if rng.random() < 0.3 else None
    stars, certificate, year, level = ocop
    return ProductProfile(
        category_slug=category_slug,
        name=name,
        unit=unit,
        price_vnd=price,
        compare_at_price_vnd=compare_at,
        stock=stock,
        weight_grams=grams,
        ocop_stars=stars,
        ocop_certificate_no=certificate,
        ocop_year=year,
        ocop_level=level,
        origin=_origin_label(locality),
        description_md=description,
        gtin=gtin,
    )


def make_product(
    rng: random.Random, category_slug: str, *, taken: Collection[str] = ()
) -> ProductProfile:
    """Draw one product for the leaf ``category_slug``; its name is not in ``taken``.

    Under the OCOP leaves the product is any kind that can carry stars, with that many.
    When every draw collides with ``taken`` the product becomes a combo of 2, 3 … units.
    """
    try:
        templates = PRODUCT_TEMPLATES[category_slug]
    except KeyError:
        raise KeyError(f"no product templates for category {category_slug!r}") from None
    forced = OCOP_LEAVES.get(category_slug)
    product = None
    for _ in range(12):
        product = _draw_product(rng, rng.choice(templates), category_slug, forced)
        if product.name not in taken:
            return product
    assert product is not None
    for count in range(2, 100):
        name = f"{product.name} – combo {count}"
        if name not in taken:
            return replace(
                product,
                name=name,
                price_vnd=_round_price(product.price_vnd * count * 0.97),
                compare_at_price_vnd=(
                    _round_price(product.compare_at_price_vnd * count)
                    if product.compare_at_price_vnd
                    else None
                ),
                weight_grams=product.weight_grams * count,
                stock=product.stock // count,
            )
    raise ValueError(f"cannot find a free product name in {category_slug!r}")


# --- Shops --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopTheme:
    labels: tuple[str, ...]  # what the sign says the shop sells, Title Case
    specialty: str  # the same, in a sentence
    categories: tuple[str, ...]  # leaf slugs, the main one first
    places: tuple[str, ...]  # localities in WARDS_BY_LOCALITY
    sector: str  # for company names: "Thủy Sản", "Thực Phẩm" …
    weight: int  # shops of this kind per round of SHOP_THEMES
    types: dict[str, int] = field(default_factory=dict)  # business type weights


_HOUSEHOLD_HEAVY = {"household": 50, "individual": 25, "cooperative": 12, "enterprise": 13}
_COOP_HEAVY = {"household": 30, "individual": 15, "cooperative": 45, "enterprise": 10}
_FIRM_HEAVY = {"household": 25, "individual": 15, "cooperative": 10, "enterprise": 50}

SHOP_THEMES: tuple[ShopTheme, ...] = (
    ShopTheme(
        ("Khô Cá Lóc", "Khô Cá Đồng", "Khô Cá"),
        "khô cá lóc, khô cá sặc và các loại khô đồng",
        ("kho-ca", "mam-ba-khia", "do-an-vat"),
        ("U Minh", "Thới Bình", "Trần Văn Thời", "Hồng Dân"),
        "Thực Phẩm",
        3,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Tôm Khô", "Khô Tôm", "Tôm Khô"),
        "tôm khô, tôm đất khô và tép khô",
        ("tom-kho", "kho-ca", "hop-qua-dac-san"),
        ("Rạch Gốc", "Năm Căn", "Đầm Dơi", "Tam Giang", "Cái Đôi Vàm", "Gành Hào"),
        "Thủy Sản",
        3,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Khô Mực", "Hải Sản Khô", "Khô Biển"),
        "khô mực, mực một nắng và khô cá biển",
        ("kho-muc", "kho-ca", "tom-kho"),
        ("Sông Đốc", "Gành Hào", "Đất Mũi", "Khánh Bình"),
        "Thủy Sản",
        2,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Cua", "Cua Biển", "Cua Gạch"),
        "cua gạch, cua thịt sống và hải sản rừng đước",
        ("cua-ghe", "ngheu-so-oc", "tom-tuoi"),
        ("Năm Căn", "Ngọc Hiển", "Đầm Dơi", "Tam Giang"),
        "Thủy Sản",
        2,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Hải Sản Tươi", "Hải Sản", "Vựa Hải Sản"),
        "hải sản tươi sống đánh bắt trong ngày",
        ("tom-tuoi", "ca-tuoi", "muc-tuoi", "ngheu-so-oc"),
        ("Sông Đốc", "Đất Mũi", "Gành Hào", "Năm Căn", "Cái Nước"),
        "Thủy Sản",
        2,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Mật Ong", "Mật Ong Rừng", "Ong Mật"),
        "mật ong rừng tràm, phấn hoa và tinh dầu tràm",
        ("mat-ong", "phan-hoa-sua-ong-chua", "tinh-dau-tram"),
        ("U Minh", "Trần Văn Thời", "Khánh An", "Khánh Lâm"),
        "Nông Lâm Sản",
        2,
        _COOP_HEAVY,
    ),
    ShopTheme(
        ("Ba Khía", "Mắm", "Mắm Ba Khía"),
        "ba khía muối, mắm cá và các món mắm miền Tây",
        ("mam-ba-khia", "sa-te-nuoc-cham", "nuoc-mam"),
        ("Rạch Gốc", "Ngọc Hiển", "Năm Căn", "U Minh"),
        "Thực Phẩm",
        2,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Bánh Phồng Tôm", "Chả Cá", "Bánh Phồng Tôm"),
        "bánh phồng tôm, chả cá và chả tôm",
        ("cha-ca-banh-phong-tom", "cha-bong-lap-xuong", "do-an-vat"),
        ("Cà Mau", "Cái Nước", "Đầm Dơi", "Bạc Liêu", "Giá Rai"),
        "Thực Phẩm",
        2,
        _FIRM_HEAVY,
    ),
    ShopTheme(
        ("Chà Bông", "Lạp Xưởng Tôm", "Lạp Xưởng"),
        "chà bông cá lóc, lạp xưởng tôm và đồ ăn sẵn",
        ("cha-bong-lap-xuong", "cha-ca-banh-phong-tom", "do-an-vat"),
        ("Cà Mau", "Cái Nước", "Trần Văn Thời", "Bạc Liêu"),
        "Thực Phẩm",
        1,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Gạo", "Gạo Sạch", "Lúa Gạo"),
        "gạo tôm – lúa, gạo ST25 và nếp",
        ("gao", "rau-cu"),
        ("Hồng Dân", "Thới Bình", "Phước Long", "Vĩnh Lợi", "Trần Văn Thời"),
        "Nông Sản",
        2,
        _COOP_HEAVY,
    ),
    ShopTheme(
        ("Nông Sản Sạch", "Trái Cây", "Vườn Nhà"),
        "trái cây vườn, rau quê và nước ép",
        ("trai-cay", "rau-cu", "nuoc-giai-khat"),
        ("Trần Văn Thời", "U Minh", "Vĩnh Lợi", "Thới Bình", "Giá Rai"),
        "Nông Sản",
        2,
        _COOP_HEAVY,
    ),
    ShopTheme(
        ("Đan Lác", "Đồ Đan Lác", "Đan Bàng"),
        "giỏ, chiếu, túi xách đan lác và cỏ bàng",
        ("dan-lat-lac", "dan-bang", "qua-luu-niem"),
        ("Thới Bình", "Tân Lộc", "U Minh", "Khánh An"),
        "Thủ Công Mỹ Nghệ",
        2,
        _COOP_HEAVY,
    ),
    ShopTheme(
        ("Lục Bình", "Đan Lục Bình", "Mây Tre Lục Bình"),
        "đồ đan lục bình và giỏ quà",
        ("dan-luc-binh", "gio-qua-tet", "qua-luu-niem"),
        ("Hồng Dân", "Phước Long", "Vĩnh Lợi"),
        "Thủ Công Mỹ Nghệ",
        1,
        _COOP_HEAVY,
    ),
    ShopTheme(
        ("Đồ Gỗ Mỹ Nghệ", "Mộc Mỹ Nghệ", "Quà Lưu Niệm"),
        "đồ gỗ mỹ nghệ và quà lưu niệm Đất Mũi",
        ("do-go-my-nghe", "qua-luu-niem"),
        ("Cà Mau", "Năm Căn", "Đất Mũi", "Bạc Liêu"),
        "Mỹ Nghệ",
        1,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Rượu Giác", "Rượu Đặc Sản", "Rượu Nếp"),
        "rượu trái giác, rượu nếp và rượu mật ong",
        ("ruou-dac-san", "tra-thao-moc"),
        ("U Minh", "Thới Bình", "Bạc Liêu", "Trần Văn Thời"),
        "Đồ Uống",
        1,
        _FIRM_HEAVY,
    ),
    ShopTheme(
        ("Trà Thảo Mộc", "Trà", "Thảo Mộc"),
        "trà thảo mộc và nước giải khát từ trái cây",
        ("tra-thao-moc", "nuoc-giai-khat"),
        ("Cà Mau", "U Minh", "Trần Văn Thời", "Bạc Liêu"),
        "Thực Phẩm",
        1,
        _FIRM_HEAVY,
    ),
    ShopTheme(
        ("Đặc Sản", "Đặc Sản Cà Mau", "Quà Quê"),
        "đặc sản khô, mật ong và hộp quà biếu",
        ("hop-qua-dac-san", "tom-kho", "kho-ca", "mat-ong", "gio-qua-tet"),
        ("Cà Mau", "Đất Mũi", "Bạc Liêu", "Năm Căn"),
        "Đặc Sản",
        3,
        _FIRM_HEAVY,
    ),
    ShopTheme(
        ("Bánh Kẹo", "Bánh Mứt", "Bánh Quê"),
        "bánh truyền thống, mứt và kẹo quê",
        ("banh-truyen-thong", "mut-keo", "do-an-vat"),
        ("Cà Mau", "Bạc Liêu", "Giá Rai", "Hồng Dân", "U Minh"),
        "Thực Phẩm",
        1,
        _HOUSEHOLD_HEAVY,
    ),
    ShopTheme(
        ("Nước Mắm", "Muối", "Nước Mắm Cá Cơm"),
        "nước mắm cá cơm, muối hột và nước chấm",
        ("nuoc-mam", "muoi", "sa-te-nuoc-cham"),
        ("Sông Đốc", "Bạc Liêu", "Đông Hải", "Gành Hào"),
        "Thực Phẩm",
        1,
        _FIRM_HEAVY,
    ),
    ShopTheme(
        ("Sản Phẩm OCOP", "Điểm Bán OCOP", "Đặc Sản OCOP"),
        "sản phẩm đạt chuẩn OCOP của các chủ thể trong tỉnh",
        ("ocop-4-sao", "ocop-3-sao", "ocop-5-sao"),
        ("Cà Mau", "Bạc Liêu", "Năm Căn", "U Minh"),
        "Đặc Sản",
        1,
        {"cooperative": 40, "enterprise": 60},
    ),
)


def _schedule(themes: Sequence[ShopTheme]) -> tuple[ShopTheme, ...]:
    """Interleave the themes by weight so the first round covers every theme."""
    order: list[ShopTheme] = []
    for turn in range(max(theme.weight for theme in themes)):
        order += [theme for theme in themes if theme.weight > turn]
    return tuple(order)


THEME_SCHEDULE = _schedule(SHOP_THEMES)

ORDINALS = ("Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Út")
HONORIFICS = ("Cô", "Chú", "Chị", "Anh", "Dì", "Bà", "Cậu")
PET_NAMES = ("Tèo", "Tí", "Mập", "Lùn", "Đen", "Bé", "Nhỏ", "Hên")
BRANDS = (
    "Sao Mai",
    "Phương Nam",
    "Miền Cực Nam",
    "Mekong Xanh",
    "Hương Rừng",
    "Biển Tây",
    "Đất Mũi Xanh",
    "Kim Long",
    "Phú An",
    "Tân Phát",
    "Minh Châu",
    "Hòa Hiệp",
)
_TYPE_PHRASES = {
    "household": "hộ kinh doanh",
    "individual": "người bán cá thể",
    "cooperative": "hợp tác xã",
    "enterprise": "doanh nghiệp",
}
_FOUNDED = {
    "household": (1995, 2022),
    "individual": (2015, 2024),
    "cooperative": (2008, 2023),
    "enterprise": (2005, 2022),
}
SHOP_TAILS = (
    "Nhận giao hàng toàn quốc, đóng gói kỹ.",
    "Cam kết hàng đúng mô tả, đổi trả trong 3 ngày nếu có lỗi.",
    "Có giá sỉ cho đại lý và cửa hàng đặc sản.",
    "Khách ghé cơ sở được xem cách làm và nếm thử.",
    "Mở cửa từ 6 giờ sáng đến 8 giờ tối, cả chủ nhật.",
    "Ưu tiên nguyên liệu của bà con trong ấp, trả giá công bằng.",
)


# "Út" is an ordinal itself: "Ba Út" is no one's name.
_GIVEN = tuple(name for name in (*GIVEN_MALE, *GIVEN_FEMALE) if name != "Út")


def _nickname(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return f"{rng.choice(ORDINALS)} {rng.choice(_GIVEN)}"
    if roll < 0.85:
        return f"{rng.choice(HONORIFICS)} {rng.choice(ORDINALS)}"
    return f"{rng.choice(ORDINALS)} {rng.choice(PET_NAMES)}"


def _place_name(rng: random.Random, locality: str) -> str:
    return rng.choice(PLACE_ALIASES.get(locality, (locality,)))


def _shop_name(rng: random.Random, theme: ShopTheme, business_type: str, locality: str) -> str:
    label = rng.choice(theme.labels)
    place = _place_name(rng, locality)
    nick = _nickname(rng)
    if business_type == "cooperative":
        head = rng.choice(("HTX", "HTX", "Hợp tác xã", "Tổ hợp tác"))
        return f"{head} {label} {place}"
    if business_type == "enterprise":
        form = rng.choice(("Công ty TNHH", "Công ty TNHH", "Công ty Cổ phần", "DNTN"))
        if form == "DNTN":
            return f"DNTN {label} {nick}"
        if rng.random() < 0.5:
            return f"{form} {theme.sector} {place}"
        return f"{form} {theme.sector} {rng.choice(BRANDS)}"
    if business_type == "household":
        pattern = rng.choice(
            (
                "{label} {nick}",
                "{label} {nick}",
                "Cơ sở {label} {nick}",
                "Cơ sở {label} {place} {nick}",
                "Hộ kinh doanh {label} {nick}",
                "{label} {place} {nick}",
            )
        )
    else:
        pattern = rng.choice(
            ("{label} {nick}", "Tiệm {label} {nick}", "{nick} – {label} {place}", "{label} {place}")
        )
    return pattern.format(label=label, nick=nick, place=place)


def _street_address(rng: random.Random, locality: str, ward: str) -> str:
    if ward.startswith("Phường"):
        streets = STREETS.get(locality, ("Quốc lộ 1A",))
        return f"Số {rng.randint(1, 420)} đường {rng.choice(streets)}"
    hamlet = rng.choice(HAMLETS)
    if rng.random() < 0.5:
        return f"Số {rng.randint(1, 250)}, {hamlet[0].lower()}{hamlet[1:]}"
    return f"Tổ {rng.randint(1, 15)}, {hamlet[0].lower()}{hamlet[1:]}"


def _shop_description(
    rng: random.Random,
    name: str,
    business_type: str,
    theme: ShopTheme,
    locality: str,
    ward: str,
    founded: int,
) -> str:
    where = f"{ward[0].lower()}{ward[1:]}"
    if business_type == "household":
        intro = f"Cơ sở gia đình ở {where}, làm {theme.specialty} từ năm {founded}."
    elif business_type == "individual":
        intro = (
            f"Chủ tiệm là người {locality} chính gốc, bán {theme.specialty} nhà làm "
            f"và hàng của bà con trong ấp từ năm {founded}."
        )
    elif business_type == "cooperative":
        intro = (
            f"{name} thành lập năm {founded} với {rng.randint(9, 120)} thành viên là bà con "
            f"{locality}, chuyên {theme.specialty}."
        )
    else:
        intro = (
            f"{name} thành lập năm {founded}, có xưởng sản xuất tại {where}, "
            f"chuyên {theme.specialty}."
        )
    tails = rng.sample(SHOP_TAILS, 2)
    if business_type == "enterprise":
        tails[1] = "Hỗ trợ xuất hóa đơn VAT và hợp đồng cung ứng cho doanh nghiệp."
    return " ".join([intro, *tails])


def make_shop_profile(rng: random.Random, index: int) -> ShopProfile:
    """Draw shop number ``index`` (0-based): its kind cycles so every category gets shops."""
    theme = THEME_SCHEDULE[index % len(THEME_SCHEDULE)]
    types, weights = zip(*theme.types.items(), strict=True)
    business_type = rng.choices(types, weights=weights)[0]
    locality = rng.choice(theme.places)
    ward = rng.choice(WARDS_BY_LOCALITY[locality])
    name = _shop_name(rng, theme, business_type, locality)
    founded = rng.randint(*_FOUNDED[business_type])
    return ShopProfile(
        name=name,
        business_type=business_type,
        description=_shop_description(rng, name, business_type, theme, locality, ward, founded),
        street_address=_street_address(rng, locality, ward),
        ward=ward,
        locality=locality,
        category_slugs=theme.categories,
        founded_year=founded,
    )


def make_shop_profiles(rng: random.Random, count: int) -> list[ShopProfile]:
    """Draw ``count`` shops with distinct names (a clash gets its locality, then a number)."""
    shops: list[ShopProfile] = []
    seen: set[str] = set()
    for index in range(count):
        shop = make_shop_profile(rng, index)
        name = shop.name
        if name in seen:
            name = f"{shop.name} {shop.locality}"
        number = 2
        while name in seen:
            name = f"{shop.name} {number}"
            number += 1
        seen.add(name)
        shops.append(replace(shop, name=name) if name != shop.name else shop)
    return shops


def make_shop_products(rng: random.Random, shop: ShopProfile, count: int) -> list[ProductProfile]:
    """Draw ``count`` products for ``shop``, mostly in its main category, names distinct."""
    slugs = shop.category_slugs
    weights = [3 if position == 0 else 1 for position in range(len(slugs))]
    products: list[ProductProfile] = []
    taken: set[str] = set()
    for _ in range(count):
        slug = rng.choices(slugs, weights=weights)[0]
        product = make_product(rng, slug, taken=taken)
        taken.add(product.name)
        products.append(product)
    return products


def _check() -> None:
    """Fail at import if the tables drift apart (cheap: runs once)."""
    leaves = set(leaf_slugs())
    missing = leaves - set(PRODUCT_TEMPLATES)
    if missing:
        raise RuntimeError(f"leaf categories without product templates: {sorted(missing)}")
    for slug, templates in _OWN_TEMPLATES.items():
        for template in templates:
            if template.unit not in UNITS or any(p.unit not in UNITS for p in template.packs):
                raise RuntimeError(f"unknown unit in {template.name!r}")
            for locality in template.origins or LEAF_ORIGINS[slug]:
                if locality not in WARDS_BY_LOCALITY:
                    raise RuntimeError(f"unknown locality {locality!r} in {slug}")


_check()
