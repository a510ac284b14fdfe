"""A lock: SET NX PX with a random token; released only by its holder (compare-and-delete in Lua)."""
import uuid

RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Lock:
    def __init__(self, r, name, ttl_ms=10_000):
        self.r = r
        self.key = f"lock:{name}"
        self.ttl_ms = ttl_ms
        self.token = None
        self._release = r.register_script(RELEASE)

    def acquire(self):
        token = uuid.uuid4().hex
        if self.r.set(self.key, token, nx=True, px=self.ttl_ms):
            self.token = token
            return True
        return False

    def release(self):
        if self.token is None:
            return False
        released = self._release(keys=[self.key], args=[self.token]) == 1
        self.token = None
        return released
