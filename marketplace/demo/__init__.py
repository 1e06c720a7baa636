"""Deterministic, offline demo data shaped like Cà Mau's marketplace report."""
