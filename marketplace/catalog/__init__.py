"""The catalog: categories, product listings with images, review of listings."""
