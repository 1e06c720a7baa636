"""Stripe, and only here: Checkout Sessions, their expiry, refunds, webhook signatures.

No card data touches the application: the shopper pays on Stripe's page. VND is a
zero-decimal currency, so amounts go to Stripe as they are (150 000 đ is 150000). Calls
wait ``STRIPE_TIMEOUT_SECONDS`` at most (the library's default is 80 s, longer than a
worker lives); each create carries an idempotency key, so a retry after a lost answer
returns the session made the first time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from flask import current_app

log = logging.getLogger(__name__)


class GatewayError(RuntimeError):
    """Stripe could not be reached or refused the call; the message is safe to log."""


class BadSignature(ValueError):
    """The webhook's ``Stripe-Signature`` is missing, wrong or outside the tolerance."""


class BadEvent(ValueError):
    """A signed webhook body that is not an event as Stripe sends them."""


def is_stripe_id(value: object) -> bool:
    """True for an id as Stripe writes them and the database can keep (255 characters)."""
    return isinstance(value, str) and 0 < len(value) <= 255 and value.isprintable()


@dataclass(frozen=True)
class SessionLine:
    name: str
    unit_amount_vnd: int
    quantity: int


@dataclass(frozen=True)
class SessionState:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent: str | None
    metadata: dict[str, str]


def enabled() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


_EXTENSION_KEY = "marketplace.stripe"


def _client() -> stripe.StripeClient:
    """The app's one client: its HTTP sessions (one per thread) are kept between calls."""
    client = current_app.extensions.get(_EXTENSION_KEY)
    if client is None:
        config = current_app.config
        base = config.get("STRIPE_API_BASE")
        timeout = float(config.get("STRIPE_TIMEOUT_SECONDS", 10))
        client = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            base_addresses={"api": base} if base else None,
            http_client=stripe.RequestsClient(timeout=timeout),
            # The library resends with the same idempotency key: safe to retry once.
            max_network_retries=1,
        )
        current_app.extensions[_EXTENSION_KEY] = client
    return client


def _state(stripe_session: Any) -> SessionState:
    session = (
        stripe_session.to_dict() if hasattr(stripe_session, "to_dict") else dict(stripe_session)
    )
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return SessionState(
        id=session["id"],
        url=session.get("url"),
        status=session.get("status") or "",
        payment_status=session.get("payment_status") or "",
        payment_intent=intent,
        metadata=dict(session.get("metadata") or {}),
    )


def _call(what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        # The library's message names the request, never the key.
        raise GatewayError(
            f"Stripe {what} failed: {error.user_message or type(error).__name__}"
        ) from error


def create_session(
    *,
    lines: list[SessionLine],
    reference: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    expires_at: datetime,
    idempotency_key: str,
    email: str | None = None,
) -> SessionState:
    """Open a Checkout Session in VND for ``lines``."""
    params: dict[str, Any] = {
        "mode": "payment",
        "currency": "vnd",
        "line_items": [
            {
                "price_data": {
                    "currency": "vnd",
                    "unit_amount": line.unit_amount_vnd,
                    "product_data": {"name": line.name[:250]},
                },
                "quantity": line.quantity,
            }
            for line in lines
        ],
        "client_reference_id": reference,
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    if email:
        params["customer_email"] = email
    session = _call(
        "create session",
        _client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )
    return _state(session)


def retrieve_session(session_id: str) -> SessionState:
    return _state(_call("read session", _client().v1.checkout.sessions.retrieve, session_id))


def expire_session(session_id: str) -> SessionState:
    """Close an open session so it can no longer be paid; return its final state.

    A session that was paid (or expired) meanwhile cannot be expired: its state is read
    and returned instead, and the caller acts on what really happened.
    """
    client = _client()
    try:
        return _state(client.v1.checkout.sessions.expire(session_id))
    except stripe.InvalidRequestError:
        return retrieve_session(session_id)
    except stripe.StripeError as error:
        raise GatewayError(f"Stripe expire session failed: {type(error).__name__}") from error


def refund(payment_intent: str, amount_vnd: int, *, idempotency_key: str) -> str:
    """Give ``amount_vnd`` back on the card; return the refund's id."""
    result = _call(
        "refund",
        _client().v1.refunds.create,
        params={"payment_intent": payment_intent, "amount": amount_vnd},
        options={"idempotency_key": idempotency_key},
    )
    return str(result.id)


def verify_event(payload: bytes, signature: str | None, *, tolerance: int = 300) -> dict[str, Any]:
    """Return the event in ``payload`` if Stripe signed it within ``tolerance`` seconds.

    The library refuses old timestamps but not future ones; a signature from the future
    is refused here too, so a captured payload cannot be replayed for days. A signed body
    that is not an event (a JSON object with an id, a type and ``data.object``) raises
    ``BadEvent``.
    """
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret or not signature:
        raise BadSignature("missing signature")
    stamps = [part[2:] for part in signature.split(",") if part.strip().startswith("t=")]
    try:
        stamp = int(stamps[0].strip()) if stamps else None
    except ValueError:
        stamp = None
    if stamp is None or stamp > time.time() + tolerance:
        raise BadSignature("timestamp missing or in the future")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
    except (stripe.SignatureVerificationError, ValueError) as error:  # or not UTF-8
        raise BadSignature(str(error)) from error
    # Signed, so Stripe's; read here rather than by the library, which fails on any JSON
    # that is not an object with an AttributeError.
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as error:
        raise BadEvent("the body is not JSON") from error
    if not isinstance(event, dict) or not is_stripe_id(event.get("id")):
        raise BadEvent("not an event with an id")
    if not isinstance(event.get("type"), str) or not event["type"].isprintable():
        raise BadEvent("the event has no type")
    if not isinstance(event.get("data"), dict) or not isinstance(event["data"].get("object"), dict):
        raise BadEvent("the event has no data.object")
    return event
