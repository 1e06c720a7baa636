"""A fake Stripe API on 127.0.0.1 that the real ``stripe`` library talks to.

It keeps Checkout Sessions, the payment intents and charges that paying them makes, and
refunds, in memory, and answers as Stripe does: form-encoded requests with nested brackets
(``line_items[0][price_data][unit_amount]=150000``), JSON objects shaped like Stripe's,
errors as ``{"error": {"type": ..., "message": ...}}``, bearer-key authentication and
``Idempotency-Key`` replays. Every request is recorded for tests to inspect.

    fake = FakeStripe().start()
    client = stripe.StripeClient(
        fake.api_key,
        base_addresses={"api": fake.base_url},
        http_client=stripe.RequestsClient(timeout=5),
    )
    session = client.v1.checkout.sessions.create({...})
    fake.complete(session.id)  # the shopper paid
    payload, signature = fake.event("checkout.session.completed", fake.session(session.id))

A session's ``url`` is the fake's own ``/pay/<id>`` page, with a Pay button: pressing it
completes the session, delivers ``checkout.session.completed`` (signed) to ``webhook_url``
if one is set, then redirects to the session's ``success_url``.

Webhooks go only to loopback addresses. What the fake does not do: other modes than
``payment``, prices by id (only ``price_data``), customers, card declines, Stripe's
amount limits, and retrying failed webhook deliveries (``deliver`` sends one again).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import ipaddress
import json
import re
import secrets
import string
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from requests.structures import CaseInsensitiveDict

STRIPE_API_VERSION = stripe.api_version
WEBHOOK_SECRET = "whsec_test_fake_marketplace"
API_KEY = "sk_test_fake_marketplace"

# Currencies whose amounts Stripe counts in whole units (no cents), VND among them.
# fmt: off
ZERO_DECIMAL = frozenset((
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
))
# fmt: on

_ALPHANUMERIC = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


# Form bodies -----------------------------------------------------------------------------

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def parse_form(body: str) -> dict[str, Any]:
    """Decode a Stripe form body: ``a[b][0][c]=v`` becomes ``{"a": {"b": [{"c": "v"}]}}``.
    Objects whose keys are all indexes become lists (except under ``metadata``, whose keys
    are the caller's); ``a[]=x`` appends. Values stay strings, as on the wire."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.fullmatch(key)
        parts = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])] if match else [key]
        node = root
        for depth, part in enumerate(parts):
            if part == "":
                part = str(len(node))
            if depth == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _with_lists(root)


def _with_lists(node: Any, *, keep: bool = False) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _with_lists(value, keep=key == "metadata") for key, value in node.items()}
    if not keep and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


# Errors ----------------------------------------------------------------------------------


class StripeError(Exception):
    """An error answer, in Stripe's shape. ``saved`` is whether an idempotent replay returns
    it again (Stripe keeps the result of a request that reached the endpoint, not of one
    whose parameters failed validation)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        saved: bool = True,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.param, self.code, self.saved = param, code, saved

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}


def _invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, message, param=param, code=code, saved=False)


def _missing(param: str) -> StripeError:
    return _invalid(f"Missing required param: {param}.", param, "parameter_missing")


def _no_such(kind: str, object_id: str, param: str, status: int = 404) -> StripeError:
    return StripeError(
        status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing"
    )


def _integer(value: Any, param: str, *, minimum: int | None = None) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]+", value):
        raise _invalid(f"Invalid integer: {value}", param)
    number = int(value)
    if minimum is not None and number < minimum:
        raise _invalid(
            f"This value must be greater than or equal to {minimum}.",
            param,
            "parameter_invalid_integer",
        )
    return number


def _string(value: Any, param: str, *, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise _invalid(f"Invalid string: {value!r}", param)
    if len(value) > max_length:
        raise _invalid(
            f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
            param,
            "string_too_long",
        )
    return value


def _url(value: Any, param: str) -> str:
    text = _string(value, param, max_length=5000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid("Not a valid URL", param, "url_invalid")
    return text


def _metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise _invalid("Invalid object", param)
    if len(value) > 50:
        raise _invalid("Metadata can have at most 50 keys.", param)
    metadata = {}
    for key, item in value.items():
        if len(key) > 40:
            raise _invalid("Metadata keys can be at most 40 characters long.", f"{param}[{key}]")
        text = _string(item, f"{param}[{key}]", max_length=500)
        if text:  # an empty value unsets the key
            metadata[key] = text
    return metadata


def _reject_unknown(params: dict[str, Any], known: Iterable[str], prefix: str = "") -> None:
    for name in params:
        if name not in known:
            raise _invalid(f"Received unknown parameter: {prefix}{name}", f"{prefix}{name}")


def _list(value: Any, param: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("Invalid array", param)
    return value


# Requests and deliveries -----------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, Any]
    headers: CaseInsensitiveDict
    body: dict[str, Any]
    raw_body: str


@dataclass
class Delivery:
    url: str
    event_id: str | None
    event_type: str | None
    status: int | None  # None when nothing answered
    body: bytes
    error: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Stripe counts a redirect from a webhook endpoint as a failed delivery.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _require_loopback(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"webhook URL must be http(s): {url!r}")
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the fake delivers webhooks only to loopback addresses, not {url!r}")


# The fake --------------------------------------------------------------------------------

# fmt: off
_SESSION_PARAMS = frozenset((
    "mode", "currency", "line_items", "success_url", "cancel_url", "client_reference_id",
    "metadata", "expires_at", "customer_email", "locale", "expand", "payment_method_types",
    "payment_intent_data", "submit_type", "ui_mode", "allow_promotion_codes",
    "billing_address_collection", "phone_number_collection", "custom_text", "customer_creation",
    "payment_method_options",
))
_REFUND_PARAMS = frozenset(("payment_intent", "charge", "amount", "reason", "metadata", "expand"))
# fmt: on
_REFUND_REASONS = frozenset(("duplicate", "fraudulent", "requested_by_customer"))


class FakeStripe:
    """The fake's state and its HTTP server. Start it with ``start()`` (or ``with``), read
    ``base_url``, and stop it with ``stop()``."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        webhook_url: str | None = None,
        webhook_events: Iterable[str] = ("checkout.session.completed",),
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.webhook_events = set(webhook_events)
        # Object timestamps (created, expires_at and lazy expiry) read this clock; tests may
        # replace it. Webhook signatures use the real time, as Stripe's verifier does.
        self.clock: Callable[[], float] = time.time
        self.requests: list[RecordedRequest] = []
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._idempotent: dict[tuple[str, str], tuple[str, str, dict, int, dict]] = {}
        self._faults: list[tuple[str, float | int]] = []
        self._lock = threading.RLock()
        self._delivered = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life ----------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-stripe", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # waits for the requests under way
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def now(self) -> int:
        return int(self.clock())

    # Faults --------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next ``count`` API requests with ``status`` and an ``api_error``, before
        they reach an endpoint (so no idempotent result is kept, and a retry may succeed)."""
        with self._lock:
            self._faults.extend([("fail", status)] * count)

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """Make the next ``count`` API requests wait ``seconds`` before being answered (to
        check a client's timeout)."""
        with self._lock:
            self._faults.extend([("stall", seconds)] * count)

    # Reading state ---------------------------------------------------------------------

    def session(self, session_id: str) -> dict[str, Any]:
        """A copy of the Checkout Session as the API would show it now."""
        with self._lock:
            return self._expand(self._session(session_id, [], param="session"), [])

    def api_requests(
        self, method: str | None = None, path: str | None = None
    ) -> list[RecordedRequest]:
        """The recorded API requests (under ``/v1``), optionally of one method and path."""
        with self._lock:
            return [
                request
                for request in self.requests
                if request.path.startswith("/v1/")
                and (method is None or request.method == method)
                and (path is None or request.path == path)
            ]

    # Test controls (as the shopper, or Stripe, would act) -----------------------------

    def complete(self, session_id: str, *, email: str | None = None) -> dict[str, Any]:
        """The shopper paid: the session becomes complete and paid, with a succeeded payment
        intent and charge. Delivers the events in ``webhook_events`` to ``webhook_url`` (if
        set) before returning the session."""
        events: list[dict[str, Any]] = []
        with self._lock:
            session = self._session(session_id, events, param="session")
            if session["status"] != "open":
                raise StripeError(
                    400, f"Checkout Session {session_id} is {session['status']}, not open"
                )
            self._complete(session, events, email=email)
            result = self._expand(session, [])
        self._deliver_events(events)
        return result

    def expire(self, session_id: str) -> dict[str, Any]:
        """Expire an open session, as Stripe does at ``expires_at``."""
        events: list[dict[str, Any]] = []
        with self._lock:
            session = self._session(session_id, events, param="session")
            self._expire(session, events)
            result = self._expand(session, [])
        self._deliver_events(events)
        return result

    def refund(
        self,
        payment_intent: str | None = None,
        *,
        charge: str | None = None,
        amount: int | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Refund (part of) a payment, as the dashboard would."""
        params: dict[str, Any] = {}
        if payment_intent is not None:
            params["payment_intent"] = payment_intent
        if charge is not None:
            params["charge"] = charge
        if amount is not None:
            params["amount"] = str(amount)
        if reason is not None:
            params["reason"] = reason
        events: list[dict[str, Any]] = []
        with self._lock:
            refund = self._create_refund(params, events)
        self._deliver_events(events)
        return refund

    # Events and webhooks ---------------------------------------------------------------

    def event(
        self,
        type: str,
        obj: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[bytes, str]:
        """A Stripe event of ``type`` about ``obj``, as its JSON body and the
        ``Stripe-Signature`` header Stripe would send with it (signed at ``timestamp``,
        default now, with ``secret``, default the fake's webhook secret)."""
        with self._lock:
            event = self._record_event(type, obj)
        payload = json.dumps(event, indent=2).encode()
        return payload, self.sign(payload, timestamp=timestamp, secret=secret)

    def sign(
        self, payload: bytes | str, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """The ``Stripe-Signature`` header for ``payload``: ``t=<ts>,v1=<hex HMAC-SHA256 of
        "<ts>.<payload>" keyed with the secret>``."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        stamp = int(time.time()) if timestamp is None else int(timestamp)
        key = (self.webhook_secret if secret is None else secret).encode()
        digest = hmac.new(key, f"{stamp}.{text}".encode(), hashlib.sha256).hexdigest()
        return f"t={stamp},v1={digest}"

    def deliver(
        self, payload: bytes, signature: str, url: str | None = None, *, timeout: float = 10
    ) -> Delivery:
        """POST an event to a webhook endpoint (on loopback) as Stripe does; record and
        return what it answered. Does not raise for a failed delivery."""
        url = url or self.webhook_url
        if not url:
            raise ValueError("no webhook URL given or configured")
        _require_loopback(url)
        try:
            event = json.loads(payload)
            event_id, event_type = event.get("id"), event.get("type")
        except (ValueError, AttributeError):
            event_id = event_type = None
        request = urllib.request.Request(  # noqa: S310 (http(s) on loopback, checked above)
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Accept": "*/*; q=0.5, application/xml",
            },
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                delivery = Delivery(url, event_id, event_type, response.status, response.read())
        except urllib.error.HTTPError as error:
            with error:
                delivery = Delivery(url, event_id, event_type, error.code, error.read())
        except OSError as error:  # refused, timed out
            delivery = Delivery(url, event_id, event_type, None, b"", str(error))
        with self._delivered:
            self.deliveries.append(delivery)
            self._delivered.notify_all()
        return delivery

    def wait_for_deliveries(self, count: int, timeout: float = 5) -> list[Delivery]:
        """Wait until ``count`` deliveries were made (those that API calls set off happen
        after the answer, as Stripe's do); return them all."""
        with self._delivered:
            if not self._delivered.wait_for(lambda: len(self.deliveries) >= count, timeout):
                raise TimeoutError(f"{len(self.deliveries)} deliveries, not {count}")
            return list(self.deliveries)

    def _record_event(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": STRIPE_API_VERSION,
            "created": self.now(),
            "data": {"object": self._expand(obj, [])},
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        self.events.append(event)
        return event

    def _emit(self, type: str, obj: dict[str, Any], events: list[dict[str, Any]]) -> None:
        event = self._record_event(type, obj)
        if self.webhook_url and type in self.webhook_events:
            events.append(event)

    def _deliver_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if self.webhook_url:
                payload = json.dumps(event, indent=2).encode()
                self.deliver(payload, self.sign(payload), self.webhook_url)

    # Objects -----------------------------------------------------------------------------

    def _session(
        self, session_id: str, events: list[dict[str, Any]], *, param: str
    ) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise _no_such("checkout.session", session_id, param)
        if session["status"] == "open" and self.now() >= session["expires_at"]:
            self._expire(session, events)
        return session

    def _expire(self, session: dict[str, Any], events: list[dict[str, Any]]) -> None:
        if session["status"] != "open":
            raise StripeError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
                code="checkout_session_not_open",
            )
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session, events)

    def _complete(
        self, session: dict[str, Any], events: list[dict[str, Any]], *, email: str | None
    ) -> None:
        now = self.now()
        intent_id, charge_id = new_id("pi_"), new_id("ch_")
        intent_data = session.pop("_payment_intent_data", {})
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": session["amount_total"],
            "amount_captured": session["amount_total"],
            "amount_refunded": 0,
            "balance_transaction": new_id("txn_"),
            "captured": True,
            "created": now,
            "currency": session["currency"],
            "description": intent_data.get("description"),
            "livemode": False,
            "metadata": {},
            "paid": True,
            "payment_intent": intent_id,
            "payment_method": new_id("pm_"),
            "refunded": False,
            "status": "succeeded",
        }
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_capturable": 0,
            "amount_received": session["amount_total"],
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": now,
            "currency": session["currency"],
            "customer": None,
            "description": intent_data.get("description"),
            "latest_charge": charge_id,
            "livemode": False,
            "metadata": intent_data.get("metadata", {}),
            "payment_method": charge["payment_method"],
            "payment_method_types": session["payment_method_types"],
            "status": "succeeded",
        }
        self.charges[charge_id] = charge
        self.payment_intents[intent_id] = intent
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=intent_id,
            url=None,
            customer_details={
                "address": None,
                "email": email or session["customer_email"] or "shopper@example.com",
                "name": "Test Shopper",
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        self._emit("charge.succeeded", charge, events)
        self._emit("payment_intent.succeeded", intent, events)
        self._emit("checkout.session.completed", session, events)

    def _create_session(self, params: dict[str, Any], request_base: str) -> dict[str, Any]:
        _reject_unknown(params, _SESSION_PARAMS)
        mode = params.get("mode")
        if mode is None:
            raise _missing("mode")
        if mode != "payment":
            raise _invalid(f"The fake supports only mode=payment, not {mode!r}", "mode")
        items = _list(params.get("line_items"), "line_items")
        if not items:
            raise _invalid(
                "You must specify either `line_items` or `currency` with `payment` mode.",
                "line_items",
                "parameter_missing",
            )
        currency = params.get("currency")
        line_items, total = [], 0
        for index, item in enumerate(items):
            where = f"line_items[{index}]"
            if not isinstance(item, dict):
                raise _invalid("Invalid object", where)
            _reject_unknown(item, ("price_data", "quantity", "price"), f"{where}[")
            if "price" in item:
                raise _invalid("The fake knows no prices by id: use price_data", f"{where}[price]")
            data = item.get("price_data")
            if not isinstance(data, dict):
                raise _missing(f"{where}[price_data]")
            if "quantity" not in item:
                raise _missing(f"{where}[quantity]")
            quantity = _integer(item["quantity"], f"{where}[quantity]", minimum=1)
            item_currency = data.get("currency")
            if not item_currency:
                raise _missing(f"{where}[price_data][currency]")
            if not re.fullmatch(r"[a-z]{3}", item_currency):
                raise _invalid(
                    f"Invalid currency: {item_currency}", f"{where}[price_data][currency]"
                )
            if currency is None:
                currency = item_currency
            elif item_currency != currency:
                raise _invalid(
                    "All line items must have the same currency.", f"{where}[price_data][currency]"
                )
            if "unit_amount" not in data:
                raise _missing(f"{where}[price_data][unit_amount]")
            unit_amount = _integer(
                data["unit_amount"], f"{where}[price_data][unit_amount]", minimum=0
            )
            product = data.get("product_data")
            if "product" in data:
                product_id, name = _string(data["product"], f"{where}[price_data][product]"), None
            elif isinstance(product, dict) and product.get("name"):
                product_id = new_id("prod_", 14)
                name = _string(product["name"], f"{where}[price_data][product_data][name]")
            else:
                raise _missing(f"{where}[price_data][product_data][name]")
            amount = unit_amount * quantity
            total += amount
            line_items.append(
                {
                    "id": new_id("li_"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": currency,
                    "description": name,
                    "price": {
                        "id": new_id("price_"),
                        "object": "price",
                        "active": False,
                        "currency": currency,
                        "product": product_id,
                        "type": "one_time",
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                    },
                    "quantity": quantity,
                }
            )
        now = self.now()
        expires_at = now + 24 * 3600
        if "expires_at" in params:
            expires_at = _integer(params["expires_at"], "expires_at")
            if expires_at < now + 30 * 60:
                raise _invalid(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    "expires_at",
                )
            if expires_at > now + 24 * 3600:
                raise _invalid(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    "expires_at",
                )
        success_url = (
            _url(params["success_url"], "success_url") if "success_url" in params else None
        )
        cancel_url = _url(params["cancel_url"], "cancel_url") if "cancel_url" in params else None
        email = params.get("customer_email")
        if email is not None and not re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", _string(email, "customer_email")
        ):
            raise _invalid(f"Invalid email address: {email}", "customer_email", "email_invalid")
        reference = params.get("client_reference_id")
        if reference is not None:
            reference = _string(reference, "client_reference_id", max_length=200)
        intent_data = params.get("payment_intent_data") or {}
        if not isinstance(intent_data, dict):
            raise _invalid("Invalid object", "payment_intent_data")
        _reject_unknown(intent_data, ("metadata", "description"), "payment_intent_data[")
        session_id = new_id("cs_test_", 58)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": cancel_url,
            "client_reference_id": reference,
            "created": now,
            "currency": currency,
            "customer": None,
            "customer_details": None,
            "customer_email": email,
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": _metadata(params.get("metadata")),
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": _list(
                params.get("payment_method_types"), "payment_method_types"
            )
            or ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "submit_type": params.get("submit_type"),
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": params.get("ui_mode", "hosted"),
            "url": f"{request_base}/pay/{session_id}",
            "_payment_intent_data": {
                "metadata": _metadata(intent_data.get("metadata"), "payment_intent_data[metadata]"),
                "description": intent_data.get("description"),
            },
        }
        self.sessions[session_id] = session
        self._line_items[session_id] = line_items
        return session

    def _create_refund(
        self, params: dict[str, Any], events: list[dict[str, Any]]
    ) -> dict[str, Any]:
        _reject_unknown(params, _REFUND_PARAMS)
        if "payment_intent" in params:
            intent = self.payment_intents.get(params["payment_intent"])
            if intent is None:
                raise _no_such("payment_intent", params["payment_intent"], "payment_intent", 400)
            charge = self.charges[intent["latest_charge"]]
        elif "charge" in params:
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise _no_such("charge", params["charge"], "charge", 400)
        else:
            raise _invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = remaining
        if "amount" in params:
            amount = _integer(params["amount"], "amount", minimum=1)
            if amount > remaining:
                raise _invalid(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({remaining})",
                    "amount",
                    "amount_too_large",
                )
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise _invalid(
                f"Invalid reason: must be one of {', '.join(sorted(_REFUND_REASONS))}", "reason"
            )
        refund = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": self.now(),
            "currency": charge["currency"],
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("refund.created", refund, events)
        self._emit("charge.refunded", charge, events)
        return copy.deepcopy(refund)

    def _expand(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        obj = {key: value for key, value in obj.items() if not key.startswith("_")}
        for path in expand:
            head, _, rest = path.partition(".")
            if obj.get("object") == "checkout.session" and head == "line_items":
                items = self._line_items.get(obj["id"], [])
                obj["line_items"] = self._list_of(
                    items, f"/v1/checkout/sessions/{obj['id']}/line_items"
                )
                continue
            value = obj.get(head)
            if isinstance(value, str):
                found = self._find(value)
                if found is None:
                    raise _invalid(f"This property cannot be expanded ({path}).", "expand")
                obj[head] = self._expand(found, [rest] if rest else [])
            elif isinstance(value, dict) and rest:
                obj[head] = self._expand(value, [rest])
            elif value is not None and not isinstance(value, dict):
                raise _invalid(f"This property cannot be expanded ({path}).", "expand")
        return copy.deepcopy(obj)

    def _find(self, object_id: str) -> dict[str, Any] | None:
        for store in (self.sessions, self.payment_intents, self.charges, self.refunds):
            if object_id in store:
                return store[object_id]
        return None

    @staticmethod
    def _list_of(items: list[dict[str, Any]], url: str) -> dict[str, Any]:
        return {"object": "list", "data": copy.deepcopy(items), "has_more": False, "url": url}

    # The API, as the handler calls it (under the lock) -----------------------------------

    def _route(
        self, method: str, path: str, params: dict[str, Any], base: str, events: list
    ) -> tuple[int, dict]:
        expand = [str(item) for item in _list(params.get("expand"), "expand")]
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._expand(self._create_session(params, base), expand)
        if method == "POST" and path == "/v1/refunds":
            return 200, self._expand(self._create_refund(params, events), expand)
        if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire|/line_items)?", path):
            session_id, action = match[1], match[2]
            if method == "GET" and action is None:
                _reject_unknown(params, ("expand",))
                return 200, self._expand(self._session(session_id, events, param="session"), expand)
            if method == "POST" and action == "/expire":
                _reject_unknown(params, ("expand",))
                session = self._session(session_id, events, param="session")
                self._expire(session, events)
                return 200, self._expand(session, expand)
            if method == "GET" and action == "/line_items":
                self._session(session_id, events, param="session")
                return 200, self._list_of(self._line_items[session_id], path)
        stores = {"payment_intents": "payment_intent", "charges": "charge", "refunds": "refund"}
        if method == "GET" and (
            match := re.fullmatch(r"/v1/(payment_intents|charges|refunds|events)/([^/]+)", path)
        ):
            kind, object_id = match[1], match[2]
            if kind == "events":
                found = next((event for event in self.events if event["id"] == object_id), None)
            else:
                found = getattr(self, kind).get(object_id)
            if found is None:
                name = stores.get(kind, "event")
                raise _no_such(name, object_id, "id" if kind == "events" else name)
            return 200, self._expand(found, expand)
        raise StripeError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
        )

    def _authenticate(self, headers: CaseInsensitiveDict) -> str:
        authorization = headers.get("Authorization", "")
        scheme, _, key = authorization.partition(" ")
        if scheme != "Bearer" or not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
            )
        if key != self.api_key or not key.startswith(("sk_test_", "rk_test_")):
            raise StripeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
        return key

    def _api(self, request: RecordedRequest, base: str) -> tuple[int, dict, dict[str, str], list]:
        """Answer an API request: (status, body, extra headers, events to deliver)."""
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None and fault[0] == "stall":
            self._stopping.wait(fault[1])
        if fault is not None and fault[0] == "fail":
            error = StripeError(fault[1], "An unknown error occurred", type="api_error")
            return error.status, error.body(), {}, []
        try:
            key = self._authenticate(request.headers)
        except StripeError as error:
            return error.status, error.body(), {"WWW-Authenticate": 'Bearer realm="Stripe"'}, []
        params = request.query if request.method == "GET" else request.body
        idempotency_key = (
            request.headers.get("Idempotency-Key") if request.method == "POST" else None
        )
        events: list[dict[str, Any]] = []
        with self._lock:
            if idempotency_key:
                stored = self._idempotent.get((key, idempotency_key))
                if stored is not None:
                    method, path, body, status, answer = stored
                    if (method, path, body) != (request.method, request.path, params):
                        error = StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{idempotency_key}' if you meant to execute a different request.",
                            type="idempotency_error",
                        )
                        return error.status, error.body(), {}, []
                    return status, copy.deepcopy(answer), {"Idempotent-Replayed": "true"}, []
            try:
                status, answer = self._route(request.method, request.path, params, base, events)
                saved = True
            except StripeError as error:
                status, answer, saved = error.status, error.body(), error.saved
            if idempotency_key and saved:
                self._idempotent[(key, idempotency_key)] = (
                    request.method,
                    request.path,
                    copy.deepcopy(params),
                    status,
                    copy.deepcopy(answer),
                )
        return status, answer, {}, events

    # The payment page ---------------------------------------------------------------------

    def _pay_page(self, method: str, session_id: str) -> tuple[int, str, dict[str, str], list]:
        """The hosted payment page: (status, html, headers, events to deliver first)."""
        events: list[dict[str, Any]] = []
        with self._lock:
            try:
                session = self._session(session_id, events, param="session")
            except StripeError:
                return 404, _page("Not found", "<p>No such Checkout Session.</p>"), {}, events
            if method == "POST":
                if session["status"] == "open":
                    self._complete(session, events, email=None)
                if session["status"] == "complete":
                    if session["success_url"]:
                        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
                        return 303, "", {"Location": target}, events
                    return 200, _page("Paid", "<p>Payment complete.</p>"), {}, events
            if session["status"] != "open":
                return (
                    410,
                    _page("Expired", "<p>This Checkout Session is no longer active.</p>"),
                    {},
                    events,
                )
            rows = "".join(
                f"<tr><td>{html.escape(item['description'] or '')}</td><td>{item['quantity']}</td>"
                f"<td>{_money(item['amount_total'], item['currency'])}</td></tr>"
                for item in self._line_items[session_id]
            )
            cancel = (
                f'<a id="cancel" href="{html.escape(session["cancel_url"])}">Back</a>'
                if session["cancel_url"]
                else ""
            )
            total = _money(session["amount_total"], session["currency"])
            body = (
                f"<table>{rows}</table>"
                f'<p>Total: <strong id="total">{total}</strong></p>'
                f'<form method="post" action="/pay/{html.escape(session_id)}">'
                '<button type="submit" id="pay">Pay</button></form>'
                f"{cancel}"
            )
            return 200, _page("Pay", body), {}, events


def _money(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        text = f"{amount:,}".replace(",", ".")
        return f"{text} ₫" if currency == "vnd" else f"{text} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} – fake Stripe Checkout</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


# The HTTP side -----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for requests (and their webhooks)
    block_on_close = True
    fake: FakeStripe

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout passed during a stall) is no error of the fake.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "fake-stripe"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_form(parts.query),
            headers=CaseInsensitiveDict(self.headers.items()),
            body=parse_form(raw),
            raw_body=raw,
        )
        with fake._lock:
            fake.requests.append(request)
        base = fake.base_url
        if match := re.fullmatch(r"/pay/([^/]+)", parts.path):
            status, page, headers, events = fake._pay_page(self.command, match[1])
            fake._deliver_events(events)  # the webhook arrives before the shopper returns
            self._send(status, page.encode(), "text/html; charset=utf-8", headers)
            return
        if not parts.path.startswith("/v1/"):
            self._send(404, b"Not found", "text/plain", {})
            return
        status, answer, headers, events = fake._api(request, base)
        headers = {
            "Request-Id": new_id("req_", 14),
            "Stripe-Version": request.headers.get("Stripe-Version", STRIPE_API_VERSION),
            **(
                {"Idempotency-Key": request.headers["Idempotency-Key"]}
                if "Idempotency-Key" in request.headers
                else {}
            ),
            **headers,
        }
        self._send(status, json.dumps(answer, indent=2).encode(), "application/json", headers)
        self.wfile.flush()
        fake._deliver_events(events)  # after the answer, as Stripe's webhooks come

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
