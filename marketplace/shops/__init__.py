"""Shops ("gian hàng"): opening, legal profile, approval states, storefronts."""
