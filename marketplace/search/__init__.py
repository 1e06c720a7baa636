"""Product search: a small backend interface, Whoosh by default, fed through a pending table."""
