"""Sessions: one hash per session, with a TTL that every request refreshes."""
import uuid


class Sessions:
    def __init__(self, r, ttl_ms=30 * 60 * 1000):
        self.r = r
        self.ttl_ms = ttl_ms

    def create(self, user, **fields):
        sid = uuid.uuid4().hex
        key = f"session:{sid}"
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(key, mapping={"user": user, **fields})
        pipe.pexpire(key, self.ttl_ms)
        pipe.execute()
        return sid

    def get(self, sid):
        data = self.r.hgetall(f"session:{sid}")
        return data or None

    def touch(self, sid):
        return bool(self.r.pexpire(f"session:{sid}", self.ttl_ms))

    def ttl_ms_left(self, sid):
        return self.r.pttl(f"session:{sid}")

    def destroy(self, sid):
        return self.r.delete(f"session:{sid}") == 1
