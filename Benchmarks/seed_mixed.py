"""Seeds a Redis with the mixed keyspace the migrate and compare benchmarks copy.

70% strings (~100 B, half with a TTL), 10% hashes (10 fields), 10% lists (10 items),
5% sets (10 members), 5% sorted sets (10 members). Deterministic for a given count.
"""
import random
import sys

import redis

port, count = int(sys.argv[1]), int(sys.argv[2])
# a third argument "cluster" seeds a Redis Cluster through any of its nodes
if len(sys.argv) > 3 and sys.argv[3] == "cluster":
    from redis.cluster import RedisCluster

    r = RedisCluster(host="127.0.0.1", port=port)
else:
    r = redis.Redis(port=port)
rng = random.Random(42)
p = r.pipeline(transaction=False)
for i in range(count):
    kind = rng.random()
    if kind < 0.70:
        if i % 2:
            p.set(f"str:{i}", "v" * 100, ex=86400)
        else:
            p.set(f"str:{i}", "v" * 100)
    elif kind < 0.80:
        p.hset(f"hash:{i}", mapping={f"f{j}": f"value-{j}" for j in range(10)})
    elif kind < 0.90:
        p.rpush(f"list:{i}", *[f"item-{j}" for j in range(10)])
    elif kind < 0.95:
        p.sadd(f"set:{i}", *[f"m{j}" for j in range(10)])
    else:
        p.zadd(f"zset:{i}", {f"m{j}": j * 1.5 for j in range(10)})
    if i % 5000 == 4999:
        p.execute()
p.execute()
print(r.dbsize())
