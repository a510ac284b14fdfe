"""The reference limit: Redis copying keys server to server with MIGRATE … COPY REPLACE KEYS.

Prints keys and seconds.
"""
import sys
import time

import redis

src_port, dst_port = int(sys.argv[1]), int(sys.argv[2])
src = redis.Redis(port=src_port)
start = time.time()
keys = 0
cursor = 0
while True:
    cursor, page = src.scan(cursor=cursor, count=1000)
    if page:
        src.execute_command("MIGRATE", "127.0.0.1", dst_port, "", 0, 60000, "COPY", "REPLACE", "KEYS", *page)
        keys += len(page)
    if cursor == 0:
        break
print(f"{keys} {time.time() - start:.3f}")
