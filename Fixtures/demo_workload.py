"""The demo's sample app: redis-py through the shadow proxy, like an app whose Redis URL now points there.

Runs until SECONDS pass or a file named STOP appears; checks every read it makes against what it
wrote, and prints a one-line account. Usage: demo_workload.py PROXY_PORT SECONDS STOP_FILE
"""
import os
import sys
import time

import redis

port, seconds, stop_file = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
r = redis.Redis(port=port)  # redis-py's defaults (RESP3 on redis-py 8), as an app would have them
deadline = time.time() + seconds
ops = errors = 0
i = 0
while time.time() < deadline and not os.path.exists(stop_file):
    i += 1
    user = i % 50
    p = r.pipeline(transaction=False)
    p.set(f"cache:user:{user}", f"profile-{i}", ex=3600)
    p.incr("counter:visits")
    p.hset(f"app:session:{user}", mapping={"last_seen": str(i), "page": f"/p/{i % 7}"})
    p.expire(f"app:session:{user}", 1800)
    p.lpush("queue:app-jobs", f"job-{i}")
    p.get(f"cache:user:{user}")
    p.rpop("queue:app-jobs")
    p.zincrby("leaderboard:app", 1, f"player:{user}")
    replies = p.execute()
    ops += len(replies)
    if replies[5] != f"profile-{i}".encode():
        errors += 1
    time.sleep(0.01)
print(f"workload: {ops} commands through the proxy, {errors} wrong replies")
sys.exit(1 if errors else 0)
