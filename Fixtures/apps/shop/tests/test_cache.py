from shop.cache import Cache


def test_a_miss_computes_and_a_hit_does_not(r):
    cache = Cache(r)
    calls = []

    def load():
        calls.append(1)
        return {"id": 7, "name": "Ada"}

    assert cache.get_or_compute("user:7", load) == {"id": 7, "name": "Ada"}
    assert cache.get_or_compute("user:7", load) == {"id": 7, "name": "Ada"}
    assert len(calls) == 1


def test_entries_expire(r):
    Cache(r, ttl_seconds=120).get_or_compute("price:book", lambda: 12.5)
    assert 0 < r.ttl("cache:price:book") <= 120


def test_invalidate_forces_a_reload(r):
    cache = Cache(r)
    cache.get_or_compute("menu", lambda: ["soup"])
    assert cache.invalidate("menu")
    assert cache.get_or_compute("menu", lambda: ["salad"]) == ["salad"]
