"""Seeds a Redis with a Django-style cache: N keys whose values are pickles, half of them
zlib-compressed (binary), or, with "text", ASCII values of exactly the same sizes. The two
keyspaces differ only in their bytes, so a copy of each measures what binary values cost.
"""
import pickle
import random
import sys
import zlib

import redis

port, count, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = redis.Redis(port=port)
rng = random.Random(7)
p = r.pipeline(transaction=False)
total = 0
for i in range(count):
    obj = {"id": i, "user": f"user{i}", "roles": ["reader", "writer"][: 1 + i % 2], "score": i * 0.5,
           "bio": "".join(rng.choice("abcdefghij ") for _ in range(rng.randint(50, 600)))}
    value = pickle.dumps(obj, protocol=4)
    if i % 2:
        value = zlib.compress(value)
    if kind == "text":
        value = b"v" * len(value)
    total += len(value)
    p.set(f":1:views.decorators.cache.cache_page.{i}", value, ex=86400 if i % 3 else None)
    if i % 5000 == 4999:
        p.execute()
p.execute()
print(r.dbsize(), total)
