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
        return any((cache.get(self._key(i)) or 0) >= self.limit for i in identities if i)

    def hit(self, *identities: str) -> None:
        for identity in identities:
            if identity:
                key = self._key(identity)
                cache.add(key, 0, self.window)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, self.window)

    def reset(self, *identities: str) -> None:
        cache.delete_many([self._key(i) for i in identities if i])

    def retry_after(self) -> int:
        return self.window - int(time.time() % self.window)


def client_ip(request) -> str:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR", "")
