"""Build the demo dataset. Same seed, same data: no clock, no network."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from marketplace.catalog import ocop
from marketplace.catalog import services as catalog_services
from marketplace.catalog.models import Category, OcopCertificate, Product, ProductStatus
from marketplace.core.text import fold
from marketplace.demo import catalog_data, pictures
from marketplace.demo.names import (
    GIVEN_FEMALE,
    GIVEN_MALE,
    MIDDLE_FEMALE,
    MIDDLE_MALE,
    MOBILE_PREFIXES,
    SURNAMES,
)
from marketplace.extensions import db
from marketplace.media import services as media
from marketplace.media.models import Image
from marketplace.moderation.models import Report, ReportReason
from marketplace.shops import places
from marketplace.shops import services as shop_services
from marketplace.shops.models import BusinessType, Shop, ShopStatus
from marketplace.shops.rules import RULES_VERSION

# The province's report: 460 member accounts, 202 shops, 542 products.
DEMO_ACCOUNTS = 460
DEMO_SHOPS = 210
DEMO_PRODUCTS = 560
# Most shops are approved; a few wait, were refused or are suspended, as in real life.
SHOP_STATUS_CYCLE = (
    [ShopStatus.APPROVED] * 44 + [ShopStatus.PENDING] * 3 + [ShopStatus.REJECTED] * 2
    + [ShopStatus.SUSPENDED]
)  # fmt: skip
DEMO_PASSWORD = "chocamau-demo"  # noqa: S105 - published in the README for the demo
ADMIN_EMAIL = "admin@example.com"
# Timestamps count from a fixed day, so two seeds of the same version are identical.
EPOCH = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
SEED = 20250701


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)


def database_is_empty() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) == 0


def seed_demo(
    seed: int = SEED, *, shops: int = DEMO_SHOPS, products: int = DEMO_PRODUCTS
) -> DemoSummary:
    """Insert the demo dataset into an empty database (the caller commits).

    ``shops`` and ``products`` scale the catalog down for tests; accounts stay 460.
    """
    rng = random.Random(seed)
    users = seed_accounts(rng)
    categories = catalog_services.ensure_default_categories()
    opened = seed_shops(rng, users[1 : shops + 1])
    listings = seed_products(rng, opened, products)
    certificates, reports = seed_back_office(rng, listings)
    return DemoSummary(
        counts={
            "accounts": len(users),
            "categories": categories,
            "shops": len(opened),
            "products": len(listings),
            "OCOP certificates": certificates,
            "reports": reports,
        }
    )


def _person(rng: random.Random) -> str:
    surnames, weights = zip(*SURNAMES, strict=True)
    surname = rng.choices(surnames, weights=weights)[0]
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
    return f"{surname} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"


def _phone(rng: random.Random) -> str:
    return "+84" + rng.choice(MOBILE_PREFIXES)[1:] + f"{rng.randrange(10**7):07d}"


def seed_accounts(rng: random.Random) -> list[User]:
    """Create the admin and the members (shop owners become sellers with their shops)."""
    # One hash for every demo account: argon2id is slow on purpose, 460 times is a minute.
    password_hash = hash_password(DEMO_PASSWORD)
    users = [
        User(
            email=ADMIN_EMAIL,
            password_hash=password_hash,
            full_name="Ban Quản trị Chợ Cà Mau",
            phone="+842903831234",
            role=Role.ADMIN,
            created_at=EPOCH,
            updated_at=EPOCH,
        )
    ]
    seen: set[str] = {ADMIN_EMAIL}
    for index in range(1, DEMO_ACCOUNTS):
        name = _person(rng)
        local = ".".join(fold(name).split())
        email = f"{local}@example.com"
        if email in seen:
            email = f"{local}.{index}@example.com"
        seen.add(email)
        joined = EPOCH + timedelta(days=rng.randrange(480), minutes=rng.randrange(24 * 60))
        users.append(
            User(
                email=email,
                password_hash=password_hash,
                full_name=name,
                phone=_phone(rng),
                role=Role.SHOPPER,
                created_at=joined,
                updated_at=joined,
            )
        )
    db.session.add_all(users)
    db.session.flush()
    return users


def _tax_code(rng: random.Random) -> str:
    """A mã số thuế of Cà Mau (prefix 20) with a correct check digit."""
    while True:
        body = "20" + f"{rng.randrange(10**7):07d}"
        for last in "0123456789":
            if shop_services.is_valid_tax_code(body + last):
                return body + last


def _citizen_id(rng: random.Random) -> str:
    # 096 is Cà Mau's code in citizen ID numbers.
    return "096" + f"{rng.randrange(10**9):09d}"


def _legal_ids(rng: random.Random, business_type: BusinessType) -> tuple[str | None, str | None]:
    if business_type in (BusinessType.ENTERPRISE, BusinessType.COOPERATIVE):
        return _tax_code(rng), None
    if business_type == BusinessType.HOUSEHOLD:
        return (_tax_code(rng) if rng.random() < 0.5 else _citizen_id(rng)), None
    return None, _citizen_id(rng)


ShopAndProfile = tuple[Shop, catalog_data.ShopProfile]


def seed_shops(rng: random.Random, owners: list[User]) -> list[ShopAndProfile]:
    """Open a shop for each owner through the real service, then decide on it."""
    province = places.default_province_code()
    commune_by_name = {commune.name: commune.code for commune in places.communes(province)}
    profiles = catalog_data.make_shop_profiles(rng, len(owners))
    cache: dict[str, Image] = {}
    shops = []
    for index, (owner, profile) in enumerate(zip(owners, profiles, strict=True)):
        business_type = BusinessType(profile.business_type)
        tax_code, id_number = _legal_ids(rng, business_type)
        logo = _ingest(pictures.shop_logo(rng, pictures.ascii_initials(profile.name)), cache)
        banner = _ingest(pictures.shop_banner(rng), cache)
        shop = shop_services.open_shop(
            owner,
            shop_services.ShopDetails(
                name=profile.name,
                description=profile.description,
                phone=owner.phone,
                street=profile.street_address,
                province_code=province,
                commune_code=commune_by_name[profile.ward],
                business_type=business_type,
                tax_code=tax_code,
                id_number=id_number,
            ),
            accepted_rules_version=RULES_VERSION,
            logo=logo,
            banner=banner,
        )
        opened = owner.created_at + timedelta(days=rng.randrange(1, 30))
        shop.created_at = shop.updated_at = shop.rules_accepted_at = opened
        status = SHOP_STATUS_CYCLE[index % len(SHOP_STATUS_CYCLE)]
        if status == ShopStatus.REJECTED:
            shop_services.reject_shop(
                shop, reason="Giấy đăng ký kinh doanh chụp bị mờ, vui lòng tải lại bản rõ nét."
            )
        elif status in (ShopStatus.APPROVED, ShopStatus.SUSPENDED):
            shop_services.approve_shop(shop, trusted=rng.random() < 0.6)
            if status == ShopStatus.SUSPENDED:
                shop_services.suspend_shop(
                    shop, reason="Nhiều phản ánh giao hàng không đúng mô tả; đang xác minh."
                )
        shop.status_changed_at = opened + timedelta(days=1)
        _selling(rng, shop, owner)
        shops.append((shop, profile))
    db.session.flush()
    return shops


DEMO_BANKS = ("970405", "970436", "970418", "970415", "970422")  # Agribank, VCB, BIDV…


def _selling(rng: random.Random, shop: Shop, owner: User) -> None:
    """A shipping fee like the province's small sellers charge; half take bank transfers."""
    takes_transfers = rng.random() < 0.5
    shop_services.set_selling(
        shop,
        shop_services.Selling(
            shipping_fee_vnd=rng.choice((15_000, 20_000, 25_000, 30_000)),
            free_shipping_from_vnd=rng.choice((300_000, 500_000, None)),
            bank_bin=rng.choice(DEMO_BANKS) if takes_transfers else None,
            bank_account_number="".join(rng.choice("0123456789") for _ in range(13))
            if takes_transfers
            else None,
            bank_account_name=fold(owner.full_name).upper() if takes_transfers else None,
        ),
    )


def seed_products(rng: random.Random, shops: list[ShopAndProfile], total: int) -> list[Product]:
    """List ``total`` products across the shops, with pictures, mostly on sale."""
    category_ids = {c.slug: c.id for c in db.session.scalars(select(Category))}
    sellers = [(shop, profile) for shop, profile in shops if shop.status != ShopStatus.REJECTED]
    per_shop = [1] * len(sellers)
    for _ in range(total - len(sellers)):
        per_shop[rng.randrange(len(sellers))] += 1
    picture_cache: dict[str, Image] = {}
    products = []
    for (shop, profile), count in zip(sellers, per_shop, strict=True):
        for item in catalog_data.make_shop_products(rng, profile, count):
            products.append(_list_product(rng, shop, item, category_ids, picture_cache))
    db.session.flush()
    return products


REPORT_TEXTS = [
    (ReportReason.WRONG_INFORMATION, "Ảnh không giống hàng nhận được, gói nhỏ hơn ghi trên trang."),
    (ReportReason.COUNTERFEIT, "Nghi hàng nhái, bao bì khác hàng chính hãng của cơ sở."),
    (ReportReason.WRONG_INFORMATION, "Ghi xuất xứ Cà Mau nhưng hàng nhập nơi khác."),
    (ReportReason.OTHER, "Gọi điện nhiều lần không ai nghe máy."),
]


def seed_back_office(rng: random.Random, listings: list[Product]) -> tuple[int, int]:
    """The province's OCOP list (most claims on it, some not, as in life) and a few
    visitors' reports waiting for the admins; return how many of each."""
    claims = {ocop.certificate_key(p.ocop_certificate_no): p for p in listings if p.ocop_stars}
    certificates = 0
    for key, product in sorted(claims.items()):
        if rng.random() < 0.15:
            continue  # a claim the province's list does not have: shown as unverified
        db.session.add(
            OcopCertificate(
                certificate_no=product.ocop_certificate_no, certificate_key=key,
                product_name=product.name, producer=product.shop.name,
                stars=product.ocop_stars, year=product.ocop_year or 2024, imported_at=EPOCH,
            )
        )  # fmt: skip
        certificates += 1
    db.session.flush()
    ocop.reverify_all()
    published = [p for p in listings if p.status == ProductStatus.PUBLISHED]
    reports = 0
    for product in rng.sample(published, min(4, len(published))):
        for _ in range(rng.randint(1, 3)):
            reason, details = rng.choice(REPORT_TEXTS)
            made = EPOCH + timedelta(days=470 + rng.randrange(10), minutes=rng.randrange(1440))
            db.session.add(
                Report(target_type="product", target_id=product.id, reason=reason,
                       details=details, created_at=made)
            )  # fmt: skip
            reports += 1
    db.session.flush()
    return certificates, reports


def _ingest(picture: bytes, cache: dict[str, Image]) -> Image:
    """Store a generated picture once: the same bytes are not converted again."""
    key = hashlib.sha256(picture).hexdigest()
    if key not in cache:
        cache[key] = media.ingest_image(picture)
    return cache[key]


def _pictures(rng: random.Random, slug: str, cache: dict[str, Image]) -> list[Image]:
    # Four pictures per category keep the first run of `make run` short.
    variants = rng.sample(range(4), rng.choice((1, 2, 2, 3)))
    return [_ingest(pictures.product_picture(rng, slug, variant), cache) for variant in variants]


def _list_product(
    rng: random.Random,
    shop: Shop,
    item: catalog_data.ProductProfile,
    category_ids: dict[str, int],
    picture_cache: dict[str, Image],
) -> Product:
    product = catalog_services.create_product(
        shop,
        catalog_services.ProductInput(
            name=item.name,
            category_id=category_ids[item.category_slug],
            price_vnd=item.price_vnd,
            compare_at_price_vnd=item.compare_at_price_vnd,
            stock=item.stock,
            unit=item.unit,
            weight_grams=item.weight_grams,
            description_md=item.description_md,
            ocop_stars=item.ocop_stars,
            ocop_certificate_no=item.ocop_certificate_no,
            ocop_year=item.ocop_year,
            ocop_level=item.ocop_level,
            origin=item.origin,
            gtin=item.gtin,
        ),
        _pictures(rng, item.category_slug, picture_cache),
    )
    listed = shop.created_at + timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(1440))
    product.created_at = product.updated_at = listed
    roll = rng.random()
    if shop.status == ShopStatus.PENDING or roll < 0.04:
        catalog_services.change_status(product, ProductStatus.PENDING)
    elif roll < 0.07:
        pass  # a draft the seller is still writing
    elif roll < 0.09:
        catalog_services.change_status(product, ProductStatus.PENDING)
        catalog_services.reject_product(
            product, reason="Ảnh sản phẩm chưa đúng thực tế, vui lòng chụp lại sản phẩm thật."
        )
    else:
        catalog_services.change_status(product, ProductStatus.PENDING)
        catalog_services.approve_product(product)
        product.published_at = listed + timedelta(hours=rng.randrange(2, 48))
    return product
