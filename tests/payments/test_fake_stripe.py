"""The fake Stripe API, driven by the real ``stripe`` library over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import stripe

from tests.conftest import free_port
from tests.payments.conftest import stripe_client_for
from tests.payments.fake_stripe import (
    STRIPE_API_VERSION,
    WEBHOOK_SECRET,
    FakeStripe,
    StripeError,
    parse_form,
)


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "vnd",
                    "unit_amount": 150000,
                    "product_data": {"name": "Bánh pía Sóc Trăng (hộp 4 cái)"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "http://127.0.0.1:5000/orders/42/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5000/orders/42",
        "client_reference_id": "order-42",
        "metadata": {"order_id": "42"},
    }
    params.update(overrides)
    return params


def test_create_session_in_vnd(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient):
    expires_at = int(time.time()) + 3600
    session = stripe_client.v1.checkout.sessions.create(
        session_params(expires_at=expires_at, customer_email="khach@example.com")
    )
    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.url == f"{fake_stripe.base_url}/pay/{session.id}"
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.mode == "payment"
    assert session.currency == "vnd"
    assert session.amount_total == 150000  # VND has no minor unit: đồng as they are
    assert session.amount_subtotal == 150000
    assert session.metadata.to_dict() == {"order_id": "42"}
    assert session.client_reference_id == "order-42"
    assert session.customer_email == "khach@example.com"
    assert session.payment_intent is None
    assert session.expires_at == expires_at
    assert not session.livemode

    (request,) = fake_stripe.api_requests("POST", "/v1/checkout/sessions")
    assert request.headers["Authorization"] == f"Bearer {fake_stripe.api_key}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Stripe-Version"] == STRIPE_API_VERSION
    assert request.headers["Idempotency-Key"]  # the library sends one on every POST
    assert "line_items[0][price_data][unit_amount]=150000" in request.raw_body
    assert request.body["line_items"][0]["price_data"]["product_data"]["name"] == (
        "Bánh pía Sóc Trăng (hộp 4 cái)"
    )
    assert request.body["line_items"][0]["quantity"] == "1"
    assert request.body["metadata"] == {"order_id": "42"}


def test_several_line_items_add_up(stripe_client: stripe.StripeClient):
    item = {
        "price_data": {"currency": "vnd", "unit_amount": 35000, "product_data": {"name": "Kẹo dừa"}}
    }
    session = stripe_client.v1.checkout.sessions.create(
        session_params(line_items=[{**item, "quantity": 3}, {**item, "quantity": 2}]),
        {"idempotency_key": "order-42-attempt-1"},
    )
    assert session.amount_total == 175000
    expanded = stripe_client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    assert [line.quantity for line in expanded.line_items.data] == [3, 2]
    assert expanded.line_items.data[0].price.unit_amount == 35000
    assert expanded.line_items.data[0].description == "Kẹo dừa"
    listed = stripe_client.v1.checkout.sessions.line_items.list(session.id)
    assert [line.amount_total for line in listed.data] == [105000, 70000]


def test_idempotent_retry_returns_the_same_session(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
):
    options: stripe.RequestOptions = {"idempotency_key": "order-42-attempt-1"}
    first = stripe_client.v1.checkout.sessions.create(session_params(), options)
    again = stripe_client.v1.checkout.sessions.create(session_params(), options)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(fake_stripe.sessions) == 1
    other = stripe_client.v1.checkout.sessions.create(
        session_params(), {"idempotency_key": "order-42-attempt-2"}
    )
    assert other.id != first.id


def test_same_key_with_another_body_is_an_idempotency_error(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
):
    options: stripe.RequestOptions = {"idempotency_key": "order-42-attempt-1"}
    stripe_client.v1.checkout.sessions.create(session_params(), options)
    with pytest.raises(stripe.IdempotencyError) as raised:
        stripe_client.v1.checkout.sessions.create(session_params(client_reference_id="43"), options)
    assert raised.value.http_status == 400
    assert raised.value.error.type == "idempotency_error"
    assert "order-42-attempt-1" in raised.value.user_message
    assert len(fake_stripe.sessions) == 1


def test_invalid_parameters_are_not_kept_for_the_key(stripe_client: stripe.StripeClient):
    options: stripe.RequestOptions = {"idempotency_key": "order-42-attempt-1"}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(session_params(mode=None), options)
    assert raised.value.param == "mode"
    assert raised.value.code == "parameter_missing"
    # Stripe keeps no result for a request that failed validation: the fixed one goes through.
    assert stripe_client.v1.checkout.sessions.create(session_params(), options).status == "open"


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"line_items": None}, "line_items"),
        ({"mode": "subscription"}, "mode"),
        ({"shipping_address_collection": {"allowed_countries": ["VN"]}},
         "shipping_address_collection"),
        ({"expires_at": int(time.time()) + 60}, "expires_at"),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at"),
        ({"success_url": "/orders/42/paid"}, "success_url"),
        ({"customer_email": "not-an-address"}, "customer_email"),
        ({"line_items": [{"price_data": {"currency": "vnd", "unit_amount": 1}, "quantity": 1}]},
         "line_items[0][price_data][product_data][name]"),
        ({"line_items": [{"price_data": {"currency": "vnd", "unit_amount": 1000,
                                         "product_data": {"name": "X"}}}]},
         "line_items[0][quantity]"),
        ({"line_items": [{"price_data": {"currency": "vnd", "unit_amount": 1000,
                                         "product_data": {"name": "X"}}, "quantity": 1},
                         {"price_data": {"currency": "usd", "unit_amount": 1000,
                                         "product_data": {"name": "Y"}}, "quantity": 1}]},
         "line_items[1][price_data][currency]"),
        ({"line_items": [{"price": "price_123", "quantity": 1}]}, "line_items[0][price]"),
    ],
)  # fmt: skip
def test_bad_session_parameters(stripe_client: stripe.StripeClient, overrides, param):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(session_params(**overrides))
    assert raised.value.http_status == 400
    assert raised.value.param == param
    assert raised.value.error.type == "invalid_request_error"


def test_retrieve_and_expire(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient):
    created = stripe_client.v1.checkout.sessions.create(session_params())
    retrieved = stripe_client.v1.checkout.sessions.retrieve(created.id)
    assert retrieved.id == created.id
    assert retrieved.amount_total == 150000
    assert retrieved.status == "open"

    expired = stripe_client.v1.checkout.sessions.expire(created.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert stripe_client.v1.checkout.sessions.retrieve(created.id).status == "expired"
    assert [event["type"] for event in fake_stripe.events] == ["checkout.session.expired"]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.expire(created.id)
    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["type"] == "invalid_request_error"
    assert "open" in raised.value.json_body["error"]["message"]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_a_session_expires_at_its_time(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    later = time.time() + 24 * 3600 + 1
    fake_stripe.clock = lambda: later
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    with pytest.raises(StripeError, match="expired"):
        fake_stripe.complete(session.id)


def test_complete_then_refund(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient):
    created = stripe_client.v1.checkout.sessions.create(
        session_params(payment_intent_data={"metadata": {"order_id": "42"}})
    )
    fake_stripe.complete(created.id)
    session = stripe_client.v1.checkout.sessions.retrieve(
        created.id, {"expand": ["payment_intent.latest_charge"]}
    )
    assert session.status == "complete"
    assert session.payment_status == "paid"
    intent = session.payment_intent
    assert intent.id.startswith("pi_")
    assert intent.status == "succeeded"
    assert intent.amount_received == 150000
    assert intent.metadata.to_dict() == {"order_id": "42"}
    charge = intent.latest_charge
    assert charge.id.startswith("ch_")
    assert (charge.amount, charge.amount_refunded, charge.refunded) == (150000, 0, False)
    assert [event["type"] for event in fake_stripe.events] == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]

    refund = stripe_client.v1.refunds.create(
        {"payment_intent": intent.id, "amount": 50000, "reason": "requested_by_customer"},
        {"idempotency_key": "refund-42-1"},
    )
    assert refund.object == "refund"
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.currency, refund.status) == (50000, "vnd", "succeeded")
    assert (refund.payment_intent, refund.charge) == (intent.id, charge.id)
    charge = stripe_client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (50000, False)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 100001})
    assert raised.value.code == "amount_too_large"

    rest = stripe_client.v1.refunds.create({"payment_intent": intent.id})  # what is left
    assert rest.amount == 100000
    charge = stripe_client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (150000, True)
    assert stripe_client.v1.refunds.retrieve(rest.id).amount == 100000

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"payment_intent": intent.id})
    assert raised.value.code == "charge_already_refunded"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"payment_intent": "pi_nope"})
    assert (raised.value.http_status, raised.value.code) == (400, "resource_missing")

    # The Python helper refunds like the dashboard, on the same books.
    with pytest.raises(StripeError, match="already been refunded"):
        fake_stripe.refund(intent.id)


def test_refund_helper(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient):
    created = stripe_client.v1.checkout.sessions.create(session_params())
    intent_id = fake_stripe.complete(created.id)["payment_intent"]
    refund = fake_stripe.refund(intent_id, amount=20000)
    assert refund["amount"] == 20000
    charge_id = fake_stripe.payment_intents[intent_id]["latest_charge"]
    assert stripe_client.v1.charges.retrieve(charge_id).amount_refunded == 20000


def test_webhook_signature_is_stripes(fake_stripe: FakeStripe, stripe_client: stripe.StripeClient):
    created = stripe_client.v1.checkout.sessions.create(session_params())
    session = fake_stripe.complete(created.id)
    payload, signature = fake_stripe.event("checkout.session.completed", session)

    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.id.startswith("evt_")
    assert event.type == "checkout.session.completed"
    assert event.api_version == STRIPE_API_VERSION
    assert event.data.object.id == created.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.client_reference_id == "order-42"
    # StripeClient's own parser takes it too.
    assert stripe_client.construct_event(payload, signature, WEBHOOK_SECRET).id == event.id

    tampered = payload.replace(b'"amount_total": 150000', b'"amount_total": 1')
    assert tampered != payload
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, signature, WEBHOOK_SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_test_another")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, "", WEBHOOK_SECRET)


def test_webhook_timestamps(fake_stripe: FakeStripe):
    obj = {"id": "cs_test_x", "object": "checkout.session"}
    payload, old = fake_stripe.event(
        "checkout.session.completed", obj, timestamp=int(time.time()) - 301
    )
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(payload, old, WEBHOOK_SECRET)
    # Stripe's verifier only refuses stale timestamps: one from the future passes, so an
    # endpoint that wants to refuse those must check ``t`` itself.
    payload, future = fake_stripe.event(
        "checkout.session.completed", obj, timestamp=int(time.time()) + 3600
    )
    assert stripe.Webhook.construct_event(payload, future, WEBHOOK_SECRET).type == (
        "checkout.session.completed"
    )


def test_api_key_is_required(fake_stripe: FakeStripe):
    http_client = stripe.RequestsClient(timeout=5)
    wrong = stripe.StripeClient(
        "sk_test_someone_else",
        base_addresses={"api": fake_stripe.base_url},
        http_client=http_client,
    )
    with pytest.raises(stripe.AuthenticationError) as raised:
        wrong.v1.checkout.sessions.create(session_params())
    assert raised.value.http_status == 401
    assert raised.value.json_body["error"]["type"] == "invalid_request_error"
    assert "sk_test_" in raised.value.user_message
    live = stripe.StripeClient(
        "sk_live_" + "x" * 20, base_addresses={"api": fake_stripe.base_url}, http_client=http_client
    )
    with pytest.raises(stripe.AuthenticationError):
        live.v1.checkout.sessions.retrieve("cs_test_x")
    http_client.close()

    with requests.post(f"{fake_stripe.base_url}/v1/checkout/sessions", timeout=5) as answer:
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "invalid_request_error"
        assert "API key" in answer.json()["error"]["message"]
    assert fake_stripe.sessions == {}


def test_unknown_url_is_a_404_in_stripes_shape(fake_stripe: FakeStripe):
    with requests.get(
        f"{fake_stripe.base_url}/v1/customers",
        headers={"Authorization": f"Bearer {fake_stripe.api_key}"},
        timeout=5,
    ) as answer:
        assert answer.status_code == 404
        assert answer.json()["error"]["message"].startswith(
            "Unrecognized request URL (GET: /v1/customers)"
        )


def test_short_timeout(fake_stripe: FakeStripe):
    client, http_client = stripe_client_for(fake_stripe, timeout=0.5)
    fake_stripe.stall_next(3)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.create(session_params())
    assert time.monotonic() - started < 2.5
    http_client.close()


def test_retries_keep_the_idempotency_key(fake_stripe: FakeStripe):
    client, http_client = stripe_client_for(fake_stripe, max_network_retries=1)
    fake_stripe.fail_next(1, status=500)
    session = client.v1.checkout.sessions.create(session_params())
    first, second = fake_stripe.api_requests("POST", "/v1/checkout/sessions")
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert list(fake_stripe.sessions) == [session.id]
    http_client.close()


def test_no_retries_by_default_on_a_stripe_client(fake_stripe: FakeStripe):
    # StripeClient retries only when given max_network_retries (the module-level API
    # retries twice by default).
    client = stripe.StripeClient(
        fake_stripe.api_key,
        base_addresses={"api": fake_stripe.base_url},
        http_client=(http_client := stripe.RequestsClient(timeout=5)),
    )
    fake_stripe.fail_next(1, status=500)
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.create(session_params())
    assert len(fake_stripe.api_requests("POST")) == 1
    http_client.close()


def test_module_level_configuration(fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch):
    http_client = stripe.RequestsClient(timeout=5)
    monkeypatch.setattr(stripe, "api_key", fake_stripe.api_key)
    monkeypatch.setattr(stripe, "api_base", fake_stripe.base_url)
    monkeypatch.setattr(stripe, "default_http_client", http_client)
    session = stripe.checkout.Session.create(**session_params())
    assert stripe.checkout.Session.retrieve(session.id).amount_total == 150000
    assert stripe.checkout.Session.expire(session.id).status == "expired"
    http_client.close()


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that keeps what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers["Stripe-Signature"]))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    webhook = WebhookReceiver()
    yield webhook
    webhook.close()


def test_pay_page_completes_delivers_then_redirects(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient, receiver: WebhookReceiver
):
    fake_stripe.webhook_url = receiver.url
    session = stripe_client.v1.checkout.sessions.create(session_params())

    with requests.get(session.url, timeout=5) as page:
        assert page.status_code == 200
        assert "Bánh pía Sóc Trăng (hộp 4 cái)" in page.text
        assert "150.000 ₫" in page.text
        assert '<button type="submit" id="pay">Pay</button>' in page.text
        assert 'href="http://127.0.0.1:5000/orders/42"' in page.text  # back to the shop

    with requests.post(session.url, timeout=5, allow_redirects=False) as paid:
        assert paid.status_code == 303
        assert paid.headers["Location"] == (
            f"http://127.0.0.1:5000/orders/42/paid?session={session.id}"
        )
    # The webhook was delivered before the redirect was sent.
    ((payload, signature),) = receiver.received
    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.type == "checkout.session.completed"
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.payment_intent.startswith("pi_")
    (delivery,) = fake_stripe.deliveries
    assert (delivery.status, delivery.event_id, delivery.body) == (200, event.id, b"ok")

    # Pressing Pay again (a reload) pays nothing twice and returns to the shop.
    with requests.post(session.url, timeout=5, allow_redirects=False) as again:
        assert again.status_code == 303
    assert len(receiver.received) == 1
    assert len(fake_stripe.payment_intents) == 1


def test_pay_page_of_an_expired_session(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    fake_stripe.expire(session.id)
    with requests.get(session.url, timeout=5) as page:
        assert page.status_code == 410
    with requests.post(session.url, timeout=5, allow_redirects=False) as paid:
        assert paid.status_code == 410
    assert fake_stripe.session(session.id)["status"] == "expired"


def test_complete_delivers_to_the_configured_endpoint(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient, receiver: WebhookReceiver
):
    fake_stripe.webhook_url = receiver.url
    fake_stripe.webhook_events.add("charge.refunded")
    session = stripe_client.v1.checkout.sessions.create(session_params())
    intent_id = fake_stripe.complete(session.id)["payment_intent"]
    assert len(receiver.received) == 1  # delivered before complete() returned

    receiver.status = 500  # a failed delivery is recorded, not raised
    stripe_client.v1.refunds.create({"payment_intent": intent_id})
    deliveries = fake_stripe.wait_for_deliveries(2)  # API calls deliver after answering
    assert (deliveries[1].event_type, deliveries[1].status) == ("charge.refunded", 500)
    body = json.loads(receiver.received[1][0])
    assert body["data"]["object"]["refunded"] is True

    payload, signature = receiver.received[0]
    receiver.status = 200
    assert fake_stripe.deliver(payload, signature, receiver.url).status == 200  # a resend


def test_deliver_only_to_loopback(fake_stripe: FakeStripe):
    payload, signature = fake_stripe.event("checkout.session.completed", {"id": "cs_test_x"})
    for url in ("http://192.168.1.10/hook", "https://example.com/hook", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="webhook"):
            fake_stripe.deliver(payload, signature, url)
    assert fake_stripe.deliveries == []


def test_deliver_to_nothing_listening(fake_stripe: FakeStripe):
    payload, signature = fake_stripe.event("checkout.session.completed", {"id": "cs_test_x"})
    delivery = fake_stripe.deliver(
        payload, signature, f"http://127.0.0.1:{free_port()}/", timeout=2
    )
    assert delivery.status is None
    assert delivery.error
    assert fake_stripe.deliveries == [delivery]


def test_parse_form():
    body = (
        "line_items[0][price_data][unit_amount]=150000&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[0]=zero&metadata[order_id]=42"
        "&expand[]=line_items&expand[]=payment_intent&note=B%C3%A1nh+p%C3%ADa&empty="
    )
    assert parse_form(body) == {
        "line_items": [
            {"price_data": {"unit_amount": "150000"}, "quantity": "2"},
            {"quantity": "1"},
        ],
        "metadata": {"0": "zero", "order_id": "42"},
        "expand": ["line_items", "payment_intent"],
        "note": "Bánh pía",
        "empty": "",
    }
