"""Turn a ``dcc.Upload`` data URL into a validated customer table."""

from __future__ import annotations

import base64
import binascii

from flask import current_app

from core.errors import DataValidationError
from core.loading import CustomerData, load_customers

ACCEPT = ".csv,.txt,.tsv,.xlsx,.parquet,.pq"


def upload_limit() -> int:
    """The largest customer file the app accepts, in bytes (from the app's settings)."""
    return current_app.config["C2C_UPLOAD_MAX_BYTES"]


def load_upload(contents: str, filename: str | None, max_bytes: int) -> CustomerData:
    """Decode ``data:<type>;base64,<payload>`` and load it; bad input raises DataValidationError."""
    name = filename or "uploaded file"
    header, _, payload = (contents or "").partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise DataValidationError(["the upload arrived damaged (not a file); please try again."],
                                  name)
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise DataValidationError([f"the file is larger than the {max_bytes / 2**20:.0f} MB "
                                   "limit."], name)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DataValidationError(["the upload arrived damaged (invalid encoding); please try "
                                   "again."], name) from None
    return load_customers(raw, filename=name, max_bytes=max_bytes)
