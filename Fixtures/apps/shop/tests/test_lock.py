import time

from shop.lock import Lock


def test_only_one_holder(r):
    first, second = Lock(r, "report"), Lock(r, "report")
    assert first.acquire()
    assert not second.acquire()
    assert first.release()
    assert second.acquire()


def test_a_late_release_does_not_free_the_next_holders_lock(r):
    slow = Lock(r, "invoice", ttl_ms=50)
    assert slow.acquire()
    time.sleep(0.12)
    fast = Lock(r, "invoice")
    assert fast.acquire()
    assert not slow.release()
    assert r.get("lock:invoice") == fast.token


def test_the_lock_expires(r):
    lock = Lock(r, "export", ttl_ms=5000)
    assert lock.acquire()
    assert 0 < r.pttl("lock:export") <= 5000
