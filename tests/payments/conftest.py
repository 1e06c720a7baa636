"""Fixtures for payments: a fake Stripe API on 127.0.0.1, and a real Stripe client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.payments.fake_stripe import WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A started ``FakeStripe`` (API key ``fake_stripe.api_key``, webhook secret
    ``whsec_test_…``); stopped after the test."""
    with FakeStripe(webhook_secret=WEBHOOK_SECRET) as fake:
        yield fake


def stripe_client_for(
    fake: FakeStripe, *, timeout: float = 5, max_network_retries: int = 0
) -> tuple[stripe.StripeClient, stripe.RequestsClient]:
    """A real ``StripeClient`` that talks to ``fake``, with a short timeout; close the
    returned HTTP client when done."""
    http_client = stripe.RequestsClient(timeout=timeout)
    client = stripe.StripeClient(
        fake.api_key,
        base_addresses={"api": fake.base_url},
        http_client=http_client,
        max_network_retries=max_network_retries,
    )
    return client, http_client


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> Iterator[stripe.StripeClient]:
    client, http_client = stripe_client_for(fake_stripe)
    yield client
    http_client.close()


def stripe_test_config(tmp_path, database_url: str, fake: FakeStripe) -> dict:
    """The test app's settings with card payments going to ``fake``."""
    from tests.conftest import make_test_config

    return make_test_config(
        tmp_path,
        database_url,
        STRIPE_SECRET_KEY=fake.api_key,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake.base_url,
        STRIPE_TIMEOUT_SECONDS=2,
    )
