"""A fixed-window counter in the shared cache, for log-in attempts (and later voting)."""

import time

from django.core.cache import cache


class RateLimit:
    def __init__(self, scope: str, limit: int, window: int):
        self.scope, self.limit, self.window = scope, limit, window

    def _key(self, identity: str) -> str:
        bucket = int(time.time() // self.window)
        return f"ratelimit:{self.scope}:{identity}:{bucket}"

    def is_exceeded(self, *identities: str) -> bool:
        counts = cache.get_many([self._key(i) for i in identities if i])  # one round trip
        return any(count >= self.limit for count in counts.values())

    def hit(self, *identities: str) -> None:
        # The counter usually exists: increment first, create only on the window's first hit.
        # (On the database cache each write also counts the table to cull it, so one write
        # per hit instead of two halves the cost.)
        for identity in identities:
            if identity:
                key = self._key(identity)
                try:
                    cache.incr(key)
                except ValueError:  # first hit of this window
                    if not cache.add(key, 1, self.window):  # someone created it meanwhile
                        cache.incr(key)

    def reset(self, *identities: str) -> None:
        cache.delete_many([self._key(i) for i in identities if i])

    def retry_after(self) -> int:
        return self.window - int(time.time() % self.window)


def client_ip(request) -> str:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR", "")
