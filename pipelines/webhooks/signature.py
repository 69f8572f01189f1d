"""Clio's delivery signature: lowercase hex HMAC-SHA256 of the raw body, keyed by the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hook-Signature"
SECRET_HEADER = "X-Hook-Secret"


def sign(body: bytes, secret: str) -> str:
    """The `X-Hook-Signature` value Clio sends for `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, secret: str, signature: str | None) -> bool:
    """Whether `signature` matches `body` under `secret`, compared in constant time."""
    if not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip().lower())
