"""What every connector offers, and the channel-neutral shape of a listing it sends."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

_REGISTRY: dict[str, type[Connector]] = {}


@dataclass(frozen=True)
class ListingPayload:
    """A listing as a channel gets it, before the connector names the fields its own way.

    ``reference`` is our stable listing reference (the channel's seller SKU): creation
    goes by it, so a retry after a timeout never creates a second listing.
    """

    reference: str
    name: str
    description: str
    price_vnd: int
    compare_at_price_vnd: int | None
    stock: int
    unit: str
    weight_grams: int | None
    category_id: str | None  # the channel's category
    image_urls: tuple[str, ...]
    url: str
    brand: str  # the shop
    gtin: str | None
    ocop_stars: int | None
    origin: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Why a listing cannot go to a channel, in words a seller understands.
MISSING_REASONS = {
    "category_id": _l("its category is not mapped to one of the channel's"),
    "image_urls": _l("it has no picture"),
    "weight_grams": _l("its weight with packaging is missing"),
    "description": _l("it has no description"),
}


class Connector:
    """A channel type: its field names, and what a listing must have to be accepted."""

    type_name: ClassVar[str]
    # Payload fields the channel refuses a listing without.
    required: ClassVar[tuple[str, ...]] = ("category_id", "image_urls")
    needs_base_url: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.type_name] = cls

    def missing(self, payload: ListingPayload) -> list[str]:
        """The required fields ``payload`` lacks (empty when the channel would take it)."""
        return [name for name in self.required if not getattr(payload, name)]

    def body(self, payload: ListingPayload) -> dict[str, Any]:
        """The request body the channel expects for ``payload``, in its own field names."""
        raise NotImplementedError


def connector_for(type_name: str) -> Connector:
    """The connector of a channel type (``postmart``, ``voso``, ``feed``)."""
    return _REGISTRY[type_name]()
