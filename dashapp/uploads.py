"""Turn a ``dcc.Upload`` data URL into a validated customer table."""

from __future__ import annotations

import base64
import binascii

from flask import current_app

from core.errors import C2CError, DataValidationError
from core.loading import CustomerData, load_customers

ACCEPT = ".csv,.txt,.tsv,.gz,.xlsx,.xls,.htm,.html,.parquet,.pq"


def upload_limit() -> int:
    """The largest customer file the app accepts, in bytes (from the app's settings)."""
    return current_app.config["C2C_UPLOAD_MAX_BYTES"]


class UploadError(C2CError, ValueError):
    """An upload that arrived damaged or too large."""


def upload_bytes(contents: str | None, max_bytes: int) -> bytes:
    """The file inside a ``data:<type>;base64,<payload>`` URL of at most ``max_bytes``."""
    header, _, payload = (contents if isinstance(contents, str) else "").partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise UploadError("the upload arrived damaged (not a file); please try again.")
    if len(payload) > max_bytes * 4 // 3 + 4:
        limit = (f"{max_bytes / 2**20:.0f} MB" if max_bytes >= 2**20
                 else f"{max_bytes // 1024} KB")
        raise UploadError(f"the file is larger than the {limit} limit.")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("the upload arrived damaged (invalid encoding); please try "
                          "again.") from None


def load_upload(contents: str, filename: str | None, max_bytes: int) -> CustomerData:
    """Decode ``data:<type>;base64,<payload>`` and load it; bad input raises DataValidationError."""
    name = filename or "uploaded file"
    try:
        raw = upload_bytes(contents, max_bytes)
    except UploadError as error:
        raise DataValidationError([str(error)], name) from None
    return load_customers(raw, filename=name, max_bytes=max_bytes)
