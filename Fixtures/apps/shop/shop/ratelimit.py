"""A fixed-window rate limiter: one counter per user and window, INCR and EXPIRE in one transaction."""
import time


class FixedWindowLimiter:
    def __init__(self, r, limit, window_seconds):
        self.r = r
        self.limit = limit
        self.window = window_seconds

    def allow(self, user, now=None):
        now = time.time() if now is None else now
        key = f"rl:{user}:{int(now // self.window)}"
        pipe = self.r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self.window)
        count, _ = pipe.execute()
        return count <= self.limit
