"""Cache-aside: read the cache, compute on a miss, store with a TTL."""
import json


class Cache:
    def __init__(self, r, prefix="cache:", ttl_seconds=300):
        self.r = r
        self.prefix = prefix
        self.ttl = ttl_seconds

    def get_or_compute(self, name, compute):
        key = self.prefix + name
        hit = self.r.get(key)
        if hit is not None:
            return json.loads(hit)
        value = compute()
        self.r.set(key, json.dumps(value), ex=self.ttl)
        return value

    def invalidate(self, name):
        return self.r.delete(self.prefix + name) == 1
