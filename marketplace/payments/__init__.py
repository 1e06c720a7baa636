"""Payments: Stripe Checkout, VietQR transfers, and the ledger of what sellers are owed."""
