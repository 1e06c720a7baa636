"""What every connector offers, and the channel-neutral shape of a listing it sends.

A connector creates or updates a listing by our stable reference, deletes it, lists what
the channel holds and reads one. Its errors say what the worker should do: try again
later (``Unavailable``), wait for the channel (``RateLimited``), or stop and show the
seller why (``Refused``).
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from flask_babel import lazy_gettext as _l

from marketplace.core.urls import resolves_to_public_addresses

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


EMPTY_PAYLOAD = ListingPayload(
    reference="", name="", description="", price_vnd=0, compare_at_price_vnd=None, stock=0,
    unit="", weight_grams=None, category_id=None, image_urls=(), url="", brand="", gtin=None,
    ocop_stars=None, origin="",
)  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = "|".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    # A spreadsheet runs a cell that starts like a formula ("=HYPERLINK(…)" in a name):
    # the quote makes it text, as OWASP's advice on CSV injection says.
    if isinstance(value, str) and text.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + text
    return text


# Why a listing cannot go to a channel, in words a seller understands.
MISSING_REASONS = {
    "category_id": _l("its category is not mapped to one of the channel's"),
    "image_urls": _l("it has no picture"),
    "weight_grams": _l("its weight with packaging is missing"),
    "description": _l("it has no description"),
}


class SyncError(Exception):
    """A request to a channel did not succeed. Messages never carry credentials."""


class Unavailable(SyncError):
    """Network trouble, a timeout or a 5xx: the same request may succeed later."""


class RateLimited(SyncError):
    """The channel said 429: wait ``retry_after`` seconds before sending it anything."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.0f} s")
        self.retry_after = retry_after


class Refused(SyncError):
    """The channel refused the listing itself (a 4xx): retrying the same will not help."""


@dataclass(frozen=True)
class Pushed:
    external_id: str
    url: str | None


@dataclass(frozen=True)
class Remote:
    """A listing as the channel holds it."""

    reference: str
    external_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Access:
    """Where a channel is and how to prove who we are."""

    base_url: str
    credentials: str
    timeout: float = 10.0
    # In production every request first checks that the channel's name resolves to
    # public addresses only (a name pointed at an internal service is refused).
    production: bool = False


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Retry-After in seconds, whether given as seconds or as an HTTP date."""
    if not value:
        return default
    if value.strip().isascii() and value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, moment.timestamp() - time.time())


class Connector(ABC):
    """A channel type: its field names and what a listing must have to be accepted."""

    type_name: ClassVar[str]
    # Payload fields the channel refuses a listing without.
    required: ClassVar[tuple[str, ...]] = ("category_id", "image_urls")
    needs_base_url: ClassVar[bool] = True

    def __init__(self, access: Access | None = None) -> None:
        self.access = access
        self._http = requests.Session()
        # Called before each request: the worker's wait for the channel's rate limit, so
        # a write that takes several requests (voso's look-up, then its create) takes a
        # slot for each.
        self._pace: Callable[[], None] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:
            _REGISTRY[cls.type_name] = cls

    def missing(self, payload: ListingPayload) -> list[str]:
        """The required fields ``payload`` lacks (empty when the channel would take it)."""
        return [name for name in self.required if not getattr(payload, name)]

    @abstractmethod
    def body(self, payload: ListingPayload) -> dict[str, Any]:
        """What the channel gets for ``payload``, in its own field names."""

    def bulk_columns(self) -> list[str]:
        """The columns of the channel's bulk-upload sheet: its field names."""
        return list(self.body(EMPTY_PAYLOAD))

    def bulk_row(self, payload: ListingPayload) -> list[str]:
        """One row of the bulk-upload sheet (docs/channels/): lists joined by ``|``."""
        return [_cell(value) for value in self.body(payload).values()]


class PushConnector(Connector):
    """A channel with an API we push to: authentication, requests, and what it offers."""

    # -- HTTP, shared ---------------------------------------------------------------------

    @abstractmethod
    def headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        """Authentication headers of one request (each channel has its own scheme)."""

    def error_in(self, response: requests.Response) -> str | None:
        """The error a response carries despite a 2xx status, if the channel does that."""
        return None

    def request(self, method: str, path: str, json_body: Any = None) -> requests.Response:
        """Send one request: a timeout, no redirects (never to another host), an
        idempotency key on writes; 2xx and 404 return, anything else raises."""
        assert self.access is not None, "a connector without access cannot send"
        body = (
            b""
            if json_body is None
            else requests.models.complexjson.dumps(json_body, ensure_ascii=False).encode()
        )
        if self._pace is not None:
            self._pace()
        if self.access.production:
            parts = urlsplit(self.access.base_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if not resolves_to_public_addresses(parts.hostname or "", port):
                raise Unavailable(f"{method} {path}: the channel's address is not public")
        headers = {"Content-Type": "application/json", **self.headers(method, path, body)}
        if method != "GET":
            # The same request sent again (a retry after a lost answer) carries the same key.
            digest = hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()
            headers["Idempotency-Key"] = digest[:40]
        try:
            response = self._http.request(
                method, self.access.base_url + path, data=body or None, headers=headers,
                timeout=self.access.timeout, allow_redirects=False,
            )  # fmt: skip
        except requests.Timeout:
            raise Unavailable(
                f"{method} {path}: no answer within {self.access.timeout:g} s"
            ) from None
        except requests.RequestException as error:
            raise Unavailable(f"{method} {path}: {type(error).__name__}") from None
        status = response.status_code
        if status == 429:
            raise RateLimited(parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500 or status in (401, 403, 408):
            raise Unavailable(f"{method} {path}: HTTP {status}")
        if 300 <= status < 400:
            raise Unavailable(f"{method} {path}: redirected (not followed)")
        if status >= 400 and status != 404:
            raise Refused(self._message(response) or f"HTTP {status}")
        if status < 300 and (problem := self.error_in(response)):
            raise Refused(problem)
        return response

    @staticmethod
    def _message(response: requests.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict):
            inner = body.get("error")
            if isinstance(inner, dict):
                return str(inner.get("message") or inner.get("code") or "")[:500] or None
            return str(body.get("msg") or body.get("error_code") or "")[:500] or None
        return None

    @contextmanager
    def paced(self, wait: Callable[[], None]) -> Iterator[None]:
        """Call ``wait()`` before each request sent inside the block."""
        outer, self._pace = self._pace, wait
        try:
            yield
        finally:
            self._pace = outer

    # -- what a channel does ---------------------------------------------------------------

    @abstractmethod
    def upsert(self, payload: ListingPayload, external_id: str | None) -> Pushed:
        """Create or update the listing by our reference; return the channel's id of it."""

    @abstractmethod
    def delete(self, reference: str, external_id: str | None) -> None:
        """Remove the listing; a listing already gone is not an error."""

    @abstractmethod
    def listings(self) -> Iterator[Remote]:
        """Everything the channel holds for us."""

    @abstractmethod
    def get(self, reference: str) -> Remote | None:
        """The channel's copy of one listing, or None."""

    @abstractmethod
    def categories(self) -> list[tuple[str, str]]:
        """The channel's category tree as (id, name), for mapping ours to theirs."""


def connector_for(type_name: str, access: Access | None = None) -> Connector:
    """The connector of a channel type (``postmart``, ``voso``, ``feed``)."""
    return _REGISTRY[type_name](access)
