"""The fixed-window counter behind log-in, posting and query rate limits."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from metropole.core.ratelimit import RateLimit


def test_counts_each_identity_in_its_window(db):
    limit = RateLimit("test", limit=3, window=60)
    for _ in range(2):
        limit.hit("10.0.0.1", "alice")
    assert not limit.is_exceeded("10.0.0.1")
    limit.hit("10.0.0.1")
    assert limit.is_exceeded("10.0.0.1")
    assert limit.is_exceeded("bob", "10.0.0.1")  # any identity over the limit
    assert not limit.is_exceeded("alice", "", "bob")
    limit.reset("10.0.0.1")
    assert not limit.is_exceeded("10.0.0.1")


def test_a_hit_is_one_cache_write_once_the_counter_exists(db):
    limit = RateLimit("test-cost", limit=100, window=60)
    limit.hit("warm")
    with CaptureQueriesContext(connection) as first:
        limit.hit("warm")
    with CaptureQueriesContext(connection) as checks:
        limit.is_exceeded("warm", "other", "third")
    # Each cache write on the database cache counts the table (to cull it): one per write.
    culls = [q for q in first.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(culls) == 1, [q["sql"][:60] for q in first.captured_queries]
    assert len(checks.captured_queries) == 1  # several identities, one read
