"""upstash-ratelimit against the gateway: each algorithm allows exactly its limit."""
import pytest
from upstash_ratelimit import FixedWindow, Ratelimit, SlidingWindow, TokenBucket
from upstash_redis import Redis as Upstash

from conftest import TOKEN


@pytest.mark.parametrize(
    "limiter",
    [FixedWindow(max_requests=7, window=60), SlidingWindow(max_requests=7, window=60), TokenBucket(max_tokens=7, refill_rate=1, interval=60)],
    ids=["fixed-window", "sliding-window", "token-bucket"],
)
def test_exact_limit(gateway, limiter):
    redis = Upstash(url=gateway.url, token=TOKEN)
    rl = Ratelimit(redis=redis, limiter=limiter, prefix=f"rl-{type(limiter).__name__}")
    allowed = [rl.limit("user-1").allowed for _ in range(12)]
    assert allowed == [True] * 7 + [False] * 5
    assert rl.limit("user-2").allowed is True
