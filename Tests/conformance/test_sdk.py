"""The official upstash-redis SDK against `upshift gateway`: every shape the SDK decodes."""
import base64
import time

import httpx
import pytest
from upstash_redis import Redis as Upstash
from upstash_redis.errors import UpstashError

from conftest import READONLY, TOKEN


def test_strings(client):
    assert client.set("k", "v") is True
    assert client.get("k") == "v"
    assert client.set("k", "w", nx=True) is False
    assert client.incr("n") == 1
    assert client.incrby("n", 41) == 42
    assert client.append("k", "x") == 2
    assert client.mget("k", "missing", "n") == ["vx", None, "42"]
    assert client.getrange("k", 0, 0) == "v"
    assert client.delete("k", "n") == 2


def test_hashes(client):
    assert client.hset("h", values={"a": "1", "b": "2"}) == 2
    assert client.hget("h", "a") == "1"
    assert client.hgetall("h") == {"a": "1", "b": "2"}
    assert client.hincrby("h", "a", 5) == 6
    assert sorted(client.hkeys("h")) == ["a", "b"]


def test_lists(client):
    assert client.rpush("l", "a", "b", "c") == 3
    assert client.lpush("l", "z") == 4
    assert client.lrange("l", 0, -1) == ["z", "a", "b", "c"]
    assert client.rpop("l") == "c"
    assert client.llen("l") == 3


def test_sets_and_sorted_sets(client):
    assert client.sadd("s", "x", "y") == 2
    assert client.sismember("s", "x") is True
    assert sorted(client.smembers("s")) == ["x", "y"]
    assert client.zadd("z", {"a": 1.5, "b": 3}) == 2
    assert client.zrange("z", 0, -1, withscores=True) == [("a", 1.5), ("b", 3.0)]
    assert client.zscore("z", "b") == 3.0
    assert client.zincrby("z", 2, "a") == 3.5


def test_expiry(client):
    assert client.set("e", "v", ex=100) is True
    assert 98 <= client.ttl("e") <= 100
    assert client.set("p", "v", px=400) is True
    assert 0 < client.pttl("p") <= 400
    time.sleep(0.6)
    assert client.get("p") is None
    assert client.exists("p") == 0
    at = int(time.time() * 1000) + 50_000
    assert client.set("a", "v", pxat=at) is True
    assert client.execute(["PEXPIRETIME", "a"]) == at


def test_scan(client):
    for i in range(50):
        client.set(f"scan:{i}", i)
    keys, cursor = set(), 0
    while True:
        cursor, page = client.scan(cursor, match="scan:*", count=10)
        keys.update(page)
        if cursor == 0:
            break
    assert keys == {f"scan:{i}" for i in range(50)}


def test_scripting(client):
    assert client.eval("return redis.call('SET', KEYS[1], ARGV[1])", keys=["sk"], args=["v"]) == "OK"
    sha = client.script_load("return redis.call('GET', KEYS[1])")
    assert client.evalsha(sha, keys=["sk"]) == "v"
    assert client.script_exists(sha) == [True]
    client.script_flush()
    with pytest.raises(UpstashError, match="NOSCRIPT"):
        client.evalsha(sha, keys=["sk"])
    flagged = "#!lua flags=allow-key-locking\nreturn redis.call('GET', KEYS[1])"
    assert client.eval(flagged, keys=["sk"]) == "v"
    flagged_sha = client.script_load(flagged)
    import hashlib
    assert flagged_sha == hashlib.sha1(flagged.encode()).hexdigest()
    assert client.evalsha(flagged_sha, keys=["sk"]) == "v"


def test_pipeline_and_transaction(client):
    p = client.pipeline()
    p.set("a", "1")
    p.incr("a")
    p.get("a")
    assert p.exec() == [True, 2, "2"]
    t = client.multi()
    t.set("b", "10")
    t.decrby("b", 3)
    assert t.exec() == [True, 7]


def test_errors(client, gateway):
    client.set("str", "v")
    with pytest.raises(UpstashError, match="WRONGTYPE"):
        client.lpush("str", "x")
    with pytest.raises(UpstashError, match="not available"):
        client.execute(["BLPOP", "q", "0"])
    bad = Upstash(url=gateway.url, token="wrong-token")
    with pytest.raises(UpstashError, match="WRONGPASS"):
        bad.get("str")
    ro = Upstash(url=gateway.url, token=READONLY)
    assert ro.get("str") == "v"
    with pytest.raises(UpstashError, match="NOPERM"):
        ro.set("str", "changed")
    assert client.get("str") == "v"


def test_unicode_and_binary(client, gateway):
    text = "héllo wörld 🚀 こんにちは"
    assert client.set("u", text) is True
    assert client.get("u") == text
    raw = bytes([0, 0xFF, 0xFE, 13, 10, 0xC3, 0x28])
    headers = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{gateway.url}/set/bin%00key", content=raw, headers=headers)
    assert r.json() == {"result": "OK"}
    r = httpx.post(f"{gateway.url}/get/bin%00key", headers={**headers, "Upstash-Encoding": "base64"})
    assert base64.b64decode(r.json()["result"]) == raw
    assert "Upstash-Sync-Token" in r.headers


def test_http_surface(gateway):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.delete(f"{gateway.url}/", headers=headers).status_code == 405
    # Upstash: 400 for an invalid or unsupported command, the path form included (restapi.mdx, HTTP Codes).
    r = httpx.get(f"{gateway.url}/nosuchcommand/x", headers=headers)
    assert r.status_code == 400 and r.json()["error"].startswith("ERR unknown command")
    assert httpx.get(f"{gateway.url}/ping?_token={TOKEN}").json() == {"result": "PONG"}
    r = httpx.post(f"{gateway.url}/", json=["ECHO", "hi"], headers={**headers, "Upstash-Response-Format": "resp2"})
    assert r.content == b"$2\r\nhi\r\n"
    r = httpx.post(f"{gateway.url}/", content=b"[\"GET\",", headers=headers)
    assert r.status_code == 400 and "error" in r.json()
