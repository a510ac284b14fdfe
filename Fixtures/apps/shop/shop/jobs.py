"""A job queue on a list: producers RPUSH, workers LPOP, or wait for the next job with BLPOP."""
import json


class JobQueue:
    def __init__(self, r, name):
        self.r = r
        self.key = f"jobs:{name}"

    def enqueue(self, job):
        return self.r.rpush(self.key, json.dumps(job))

    def take(self):
        raw = self.r.lpop(self.key)
        return None if raw is None else json.loads(raw)

    def wait(self, timeout=5):
        """The worker's loop: block until a job arrives (BLPOP), None after `timeout` seconds."""
        got = self.r.blpop([self.key], timeout=timeout)
        return None if got is None else json.loads(got[1])

    def pending(self):
        return self.r.llen(self.key)
