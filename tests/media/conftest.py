"""Fixtures of the media tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def media_dir(app: Flask) -> Path:
    return Path(app.config["MEDIA_DIR"])
