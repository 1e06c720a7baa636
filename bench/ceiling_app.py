"""The ceiling for bench/catalog_pages.py: a bare Flask page of a given size from memory."""

import os

from flask import Flask

app = Flask(__name__)
BODY = "<!doctype html><html><body>" + "x" * int(os.environ.get("CEILING_BYTES", "20000"))


@app.get("/")
def page() -> str:
    return BODY
