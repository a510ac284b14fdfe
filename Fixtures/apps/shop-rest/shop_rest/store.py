"""The REST client, from UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (the names the SDK reads)."""
from upstash_redis import Redis


def connect() -> Redis:
    return Redis.from_env(allow_telemetry=False)
