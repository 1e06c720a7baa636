"""Payments: card checkout through Stripe, and bank transfers by VietQR."""
