"""Cache, rate limiter, lock, job queue and sessions, each the way an Upstash app writes it."""
import json
import time
import uuid

RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def cached(r, name, compute, ttl_seconds=300):
    key = f"cache:{name}"
    hit = r.get(key)
    if hit is not None:
        return json.loads(hit)
    value = compute()
    r.set(key, json.dumps(value), ex=ttl_seconds)
    return value


def allow(r, user, limit, window_seconds, now=None):
    now = time.time() if now is None else now
    key = f"rl:{user}:{int(now // window_seconds)}"
    tx = r.multi()
    tx.incr(key)
    tx.expire(key, window_seconds)
    count, _ = tx.exec()
    return count <= limit


def acquire(r, name, ttl_ms=10_000):
    token = uuid.uuid4().hex
    return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None


def release(r, name, token):
    return r.eval(RELEASE, keys=[f"lock:{name}"], args=[token]) == 1


def enqueue(r, queue, job):
    return r.rpush(f"jobs:{queue}", json.dumps(job))


def take(r, queue):
    raw = r.lpop(f"jobs:{queue}")
    return None if raw is None else json.loads(raw)


def create_session(r, user, ttl_ms=30 * 60 * 1000, **fields):
    sid = uuid.uuid4().hex
    key = f"session:{sid}"
    r.hset(key, values={"user": user, **fields})
    r.pexpire(key, ttl_ms)
    return sid


def session(r, sid):
    return r.hgetall(f"session:{sid}") or None
