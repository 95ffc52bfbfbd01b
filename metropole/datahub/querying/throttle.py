"""The query API's per-client rate limit, without a cache round trip on most requests.

The core's ``RateLimit`` reads and writes the shared cache on every request: with the
database cache (the default) that is about seven statements, one of them a committed write,
for a query that itself is one statement. Here each process counts its own hits and adds
them to the shared counter (the same fixed window, in the shared cache) in batches; it
learns the shared total, that is the other processes' hits, each time it adds its batch.

- With a limit of up to ``BATCH_MAX × 30`` a minute, a batch is ``limit // 30`` hits
  (at least 1): a limit of 1 to 59 is exact, hit by hit, as the core's.
- A batch is at most ``BATCH_MAX`` (10) hits; so a client spread over P worker
  processes gets at most ``limit + P × (batch - 1)`` answers in a window (300 a minute,
  four processes: at most 336), and one process alone never lets more than ``limit`` through.
- A client over the limit costs one cache read per refused request (as with the core's).
- The counter lives in Django's cache, as the core's: every process of the install sees it.
"""

from __future__ import annotations

import threading
import time

from django.core.cache import cache

BATCH_MAX = 10


def batch_size(limit: int) -> int:
    return max(1, min(BATCH_MAX, limit // 30))


class BatchedRateLimit:
    def __init__(self, scope: str, window: int = 60):
        self.scope, self.window = scope, window
        self.clock = time.time  # seconds; the window is clock() // window
        self._lock = threading.Lock()
        self._bucket: int | None = None
        # identity -> [shared total seen at the last flush, hits of this process not flushed]
        self._counts: dict[str, list[int]] = {}

    def _key(self, identity: str, bucket: int) -> str:
        return f"ratelimit:{self.scope}:{identity}:{bucket}"

    def _add(self, key: str, hits: int) -> int:
        """Add ``hits`` to the shared counter; its new value."""
        try:
            return cache.incr(key, hits)
        except ValueError:  # first hits of this window
            if cache.add(key, hits, self.window + 1):
                return hits
            return cache.incr(key, hits)  # another process created it meanwhile

    def allow(self, identity: str, limit: int) -> bool:
        """Count a request of ``identity``; False when it is over ``limit`` in this window.

        A request that this process would refuse is refused only once the shared counter,
        read again, confirms it (so a counter that expired or was reset is seen at once);
        refused requests are not counted, except the last of a batch, which is added to
        the shared counter before the answer is known."""
        bucket = int(self.clock() // self.window)
        size = batch_size(limit)
        key = self._key(identity, bucket)
        with self._lock:
            if bucket != self._bucket:  # a new window: forget the previous one
                self._bucket, self._counts = bucket, {}
            counts = self._counts.setdefault(identity, [0, 0])
            over = counts[0] + counts[1] >= limit
        if over:  # confirm with the shared counter before refusing
            shared = cache.get(key) or 0
            with self._lock:
                counts = self._counts.setdefault(identity, [0, 0])
                counts[0] = shared
                if shared + counts[1] >= limit:
                    return False
        with self._lock:
            counts = self._counts.setdefault(identity, [0, 0])
            counts[1] += 1
            if counts[1] < size:
                return True
            pending, counts[1] = counts[1], 0
        total = self._add(key, pending)
        with self._lock:
            if self._bucket == bucket:
                counts = self._counts.setdefault(identity, [0, 0])
                counts[0] = total
        # The batch's last hit is this request: refused if the shared total shows that
        # the other processes used up the window meanwhile.
        return total <= limit

    def retry_after(self) -> int:
        return self.window - int(self.clock() % self.window)

    def forget(self) -> None:
        """Drop this process's counts (tests)."""
        with self._lock:
            self._bucket, self._counts = None, {}
