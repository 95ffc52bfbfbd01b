"""HMAC signatures of connector requests (what a receiving application checks).

Headers sent with every call:
- `X-Metropole-Timestamp`: Unix time of the attempt;
- `X-Metropole-Signature`: `sha256=<hex>` = HMAC-SHA256(secret, "<timestamp>.<body>");
- `X-Metropole-Call`: the call's id, the same on every retry (an idempotency key).
A receiver recomputes the HMAC over the raw body, compares in constant time and refuses
timestamps older than a few minutes (replays).
"""

import hashlib
import hmac
import time


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance=300) -> bool:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")
