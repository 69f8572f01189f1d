"""Clio's delivery signature: lowercase hex HMAC-SHA256 of the raw body, keyed by the webhook's secret."""

from __future__ import annotations

import hmac

SIGNATURE_HEADER = "X-Hook-Signature"
SECRET_HEADER = "X-Hook-Secret"


def sign(body: bytes, secret: str) -> str:
    """The `X-Hook-Signature` value Clio sends for `body`."""
    return hmac.digest(secret.encode(), body, "sha256").hex()  # OpenSSL's one-shot HMAC


def is_valid(body: bytes, secret: str, signature: str | bytes | None) -> bool:
    """Whether `signature` (the header's value, text or raw bytes) matches `body` under
    `secret`, compared in constant time."""
    if not signature:
        return False
    given = signature.encode("utf-8", "replace") if isinstance(signature, str) else signature
    return hmac.compare_digest(sign(body, secret).encode(), given.strip().lower())
