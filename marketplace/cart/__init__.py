"""The shopper's cart: listings from several shops, kept until checkout."""
