from shop.ratelimit import FixedWindowLimiter

NOW = 1_700_000_000.0


def test_the_limit_holds_within_a_window(r):
    limiter = FixedWindowLimiter(r, limit=3, window_seconds=60)
    assert [limiter.allow("ada", now=NOW) for _ in range(5)] == [True, True, True, False, False]


def test_a_new_window_starts_over(r):
    limiter = FixedWindowLimiter(r, limit=1, window_seconds=60)
    assert limiter.allow("bob", now=NOW)
    assert not limiter.allow("bob", now=NOW + 1)
    assert limiter.allow("bob", now=NOW + 60)
    keys = r.keys("rl:bob:*")
    assert len(keys) == 2
    assert all(0 < r.ttl(k) <= 60 for k in keys)
