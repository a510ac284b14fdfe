"""The one Redis connection the app makes, from REDIS_URL as twelve-factor apps do."""
import os

import redis


def connect() -> redis.Redis:
    return redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), decode_responses=True)
