import time

from shop_rest import features as f

NOW = 1_700_000_000.0


def test_cache_computes_once_and_expires(r):
    calls = []
    assert f.cached(r, "user:7", lambda: calls.append(1) or {"id": 7}, ttl_seconds=120) == {"id": 7}
    assert f.cached(r, "user:7", lambda: calls.append(1) or {"id": 7}) == {"id": 7}
    assert len(calls) == 1
    assert 0 < r.ttl("cache:user:7") <= 120


def test_rate_limit_holds_within_a_window(r):
    assert [f.allow(r, "ada", 3, 60, now=NOW) for _ in range(5)] == [True, True, True, False, False]
    assert f.allow(r, "ada", 3, 60, now=NOW + 60)


def test_lock_has_one_holder_and_only_it_releases(r):
    token = f.acquire(r, "report")
    assert token
    assert f.acquire(r, "report") is None
    assert not f.release(r, "report", "someone-else")
    assert f.release(r, "report", token)
    assert f.acquire(r, "report")


def test_queue_is_first_in_first_out(r):
    for n in range(3):
        f.enqueue(r, "mail", {"n": n})
    assert [f.take(r, "mail")["n"] for _ in range(3)] == [0, 1, 2]
    assert f.take(r, "mail") is None


def test_session_holds_fields_and_expires(r):
    sid = f.create_session(r, "ada", ttl_ms=150, cart="3 items")
    assert f.session(r, sid) == {"user": "ada", "cart": "3 items"}
    time.sleep(0.3)
    assert f.session(r, sid) is None
