"""The baseline: a migration written the way a user would with the official SDKs.

redis-py reads (SCAN pages, then TYPE/PTTL and the value per key in a pipeline), the
upstash-redis SDK writes each page as one pipeline (DEL + the type's write + PEXPIRE).
Prints keys, seconds, and commands sent to the target.
"""
import sys
import time

import redis
from upstash_redis import Redis as Upstash

src_port, url, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
src = redis.Redis(port=src_port)
dst = Upstash(url=url, token=token)
start = time.time()
keys = commands = 0
cursor = 0
while True:
    cursor, page = src.scan(cursor=cursor, count=500)
    if page:
        meta = src.pipeline(transaction=False)
        for k in page:
            meta.type(k)
            meta.pttl(k)
        info = meta.execute()
        reads = src.pipeline(transaction=False)
        kinds = []
        for n, k in enumerate(page):
            t = info[2 * n].decode()
            kinds.append(t)
            if t == "string":
                reads.get(k)
            elif t == "hash":
                reads.hgetall(k)
            elif t == "list":
                reads.lrange(k, 0, -1)
            elif t == "set":
                reads.smembers(k)
            elif t == "zset":
                reads.zrange(k, 0, -1, withscores=True)
            else:
                reads.exists(k)
        values = reads.execute()
        w = dst.pipeline()
        for n, k in enumerate(page):
            key, t, v, ttl = k.decode(), kinds[n], values[n], info[2 * n + 1]
            w.delete(key)
            commands += 1
            if t == "string":
                w.set(key, v.decode())
            elif t == "hash":
                w.hset(key, values={a.decode(): b.decode() for a, b in v.items()})
            elif t == "list":
                w.rpush(key, *[x.decode() for x in v])
            elif t == "set":
                w.sadd(key, *[x.decode() for x in v])
            elif t == "zset":
                w.zadd(key, {m.decode(): s for m, s in v})
            commands += 1
            if ttl > 0:
                w.pexpire(key, ttl)
                commands += 1
            keys += 1
        w.exec()
    if cursor == 0:
        break
print(f"{keys} {time.time() - start:.3f} {commands}")
