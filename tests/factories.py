"""Small callable factories for test data; each writes through the real services."""

from __future__ import annotations

import io
import itertools
from typing import Any

from PIL import Image as PILImage
from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.extensions import db
from marketplace.media import services as media
from marketplace.media.models import Image
from marketplace.shops import places
from marketplace.shops import services as shops
from marketplace.shops.models import BusinessType, Shop, ShopStatus
from marketplace.shops.rules import RULES_VERSION

DEFAULT_PASSWORD = "mat-khau-an-toan-2026"
CA_MAU = places.default_province_code()
_sequence = itertools.count(1)


def make_user(
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    full_name: str = "Nguyễn Thị Hiền",
    phone: str = "0912 345 678",
    role: Role = Role.SHOPPER,
    **fields: Any,
) -> User:
    user = accounts.register_member(
        email=email or f"member{next(_sequence)}@example.com",
        password=password,
        full_name=full_name,
        phone=phone,
    )
    user.role = role
    for name, value in fields.items():
        setattr(user, name, value)
    db.session.commit()
    return user


def shop_details(**fields: Any) -> shops.ShopDetails:
    """Valid details of a household business in Cà Mau; ``fields`` override them."""
    values: dict[str, Any] = {
        "name": "Khô Cá Lóc Út Hiền",
        "description": "Khô cá lóc đồng một nắng, làm thủ công tại U Minh.",
        "phone": "0912 345 678",
        "street": "Ấp 3",
        "province_code": CA_MAU,
        "commune_code": places.communes(CA_MAU)[0].code,
        "business_type": BusinessType.HOUSEHOLD,
        "tax_code": "2000123453",
    }
    values.update(fields)
    return shops.ShopDetails(**values)


def make_shop(
    *,
    owner: User | None = None,
    name: str = "Khô Cá Lóc Út Hiền",
    status: ShopStatus = ShopStatus.APPROVED,
    trusted: bool = False,
    **details: Any,
) -> Shop:
    """A shop opened through the service, then moved to ``status`` as an admin would."""
    owner = owner or make_user()
    shop = shops.open_shop(
        owner, shop_details(name=name, **details), accepted_rules_version=RULES_VERSION
    )
    if status != ShopStatus.PENDING:
        if status == ShopStatus.REJECTED:
            shops.reject_shop(shop, reason="Thiếu giấy phép")
        else:
            shops.approve_shop(shop)
            if status == ShopStatus.SUSPENDED:
                shops.suspend_shop(shop, reason="Vi phạm")
    shop.trusted = trusted
    db.session.commit()
    return shop


def leaf_category(slug: str = "kho-ca") -> Category:
    if catalog.ensure_default_categories():
        db.session.commit()
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    assert category is not None, slug
    return category


def make_image(color: tuple[int, int, int] = (200, 120, 40)) -> Image:
    buffer = io.BytesIO()
    PILImage.new("RGB", (640, 480), color).save(buffer, "JPEG")
    return media.ingest_image(buffer.getvalue())


def product_input(**fields: Any) -> catalog.ProductInput:
    values: dict[str, Any] = {
        "name": "Khô cá lóc đồng 1 nắng",
        "category_id": fields.pop("category", None) or leaf_category().id,
        "price_vnd": 450_000,
        "stock": 20,
        "unit": "kg",
        "description_md": "Cá lóc đồng **U Minh**, phơi một nắng.",
        "origin": "U Minh, Cà Mau",
    }
    if isinstance(values["category_id"], Category):
        values["category_id"] = values["category_id"].id
    values.update(fields)
    return catalog.ProductInput(**values)


def make_product(
    *,
    shop: Shop | None = None,
    status: ProductStatus = ProductStatus.PUBLISHED,
    images: list[Image] | None = None,
    **fields: Any,
) -> Product:
    """A listing created through the service, then moved to ``status``."""
    shop = shop or make_shop()
    product = catalog.create_product(shop, product_input(**fields), images or [])
    if status == ProductStatus.PUBLISHED:
        catalog.change_status(product, ProductStatus.PENDING)
        catalog.approve_product(product)
    elif status == ProductStatus.PENDING:
        catalog.change_status(product, ProductStatus.PENDING)
    elif status == ProductStatus.REJECTED:
        catalog.change_status(product, ProductStatus.PENDING)
        catalog.reject_product(product, reason="Ảnh không rõ")
    elif status == ProductStatus.HIDDEN:
        catalog.change_status(product, ProductStatus.PENDING)
        catalog.approve_product(product)
        catalog.hide_product(product, reason="Báo cáo vi phạm")
    db.session.commit()
    return product


def log_in(client: Any, user: User, password: str = DEFAULT_PASSWORD) -> Any:
    """Log ``user`` in through the real form; return the client."""
    from tests.conftest import submit_form

    response = submit_form(client, "/account/login", {"email": user.email, "password": password})
    assert response.status_code == 302, "log-in failed"
    return client
