"""Serve public image derivatives; private documents are never reachable here."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue

from marketplace.extensions import limiter
from marketplace.media.storage import KeyNotFound, get_storage, is_public_key

bp = Blueprint("media", __name__)

# Keys name their content by hash, so a file under a key never changes.
CACHE_CONTROL = "public, max-age=31536000, immutable"
# Only WebP derivatives are public; documents are served by their own guarded routes.
CONTENT_TYPES = {".webp": "image/webp"}


@bp.get("/media/<path:key>", endpoint="file")
@limiter.exempt
def serve_file(key: str) -> ResponseReturnValue:
    content_type = CONTENT_TYPES.get(key[key.rfind(".") :].lower()) if "." in key else None
    if content_type is None or not is_public_key(key):
        abort(404)
    try:
        data = get_storage().open(key)
    except KeyNotFound:
        abort(404)
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.add_etag()
    return response.make_conditional(request)
