"""Strict mode tells Upstash's truth (issue #17, items 2, 4, 5, 6): what Upstash serves and a stock
redis-server 7 does not (or answers otherwise) is served as Upstash serves it, what Upstash does not
document is refused, top level and inside scripts alike."""
import threading
import time

import httpx
import pytest
from upstash_redis import Redis as Upstash
from upstash_redis.errors import UpstashError

from conftest import TOKEN, Gateway, Redis

DYNAMIC = "ERR Dynamic keys are not allowed in Lua scripts when 'allow-key-locking' flag is set. Key was: "
LOCKING = "#!lua flags=allow-key-locking\n"


def error_of(call):
    with pytest.raises(UpstashError) as e:
        call()
    return str(e.value)


@pytest.mark.parametrize("command", [
    ["SORT", "l"], ["SORT_RO", "l"], ["LCS", "a", "b"], ["SPUBLISH", "ch", "m"], ["XSETID", "s", "1-1"],
    ["FUNCTION", "DUMP"], ["FUNCTION", "RESTORE", "x"], ["OBJECT", "ENCODING", "l"], ["DEBUG", "SLEEP", "0"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM", "ENTRIESREAD", "0"], ["SUBSTR", "a", "0", "1"],
])
def test_undocumented_commands_are_refused(client, command):
    assert "not available" in error_of(lambda: client.execute(command))


@pytest.mark.parametrize("command", [["SORT", "KEYS[1]"], ["LCS", "KEYS[1]", "KEYS[1]"], ["OBJECT", "'ENCODING'", "KEYS[1]"],
                                     ["XSETID", "KEYS[1]", "'1-1'"], ["SPUBLISH", "'ch'", "'m'"]])
def test_undocumented_commands_are_refused_inside_scripts(client, command):
    name, args = command[0], ", ".join(command[1:])
    client.rpush("l", "3", "1", "2")
    call = f"redis.call('{name.lower()}', {args})"
    want = f"ERR Command is not available: '{name}' (Upstash does not document it)"
    assert error_of(lambda: client.eval(f"return {call}", keys=["l"])) == want
    sha = client.script_load(f"return {call}")
    assert error_of(lambda: client.evalsha(sha, keys=["l"])) == want
    # redis.pcall hands the refusal back to the script as an error value
    assert client.eval(f"local r = redis.pcall('{name.lower()}', {args}) return r.err", keys=["l"]) == want
    assert client.lrange("l", 0, -1) == ["3", "1", "2"]


def test_undocumented_commands_are_refused_inside_functions(client):
    client.execute(["FUNCTION", "FLUSH"])
    lib = """#!lua name=strictlib
redis.register_function('sorts', function(keys, args) return redis.call('SORT', keys[1]) end)
redis.register_function('reads', function(keys, args) return redis.call('GET', keys[1]) end)
redis.register_function{function_name='locked', callback=function(keys, args) return redis.call('GET', args[1]) end,
  flags={'allow-key-locking', 'no-writes'}}
"""
    assert client.execute(["FUNCTION", "LOAD", lib]) == "strictlib"
    client.set("k", "v")
    assert error_of(lambda: client.execute(["FCALL", "sorts", "1", "k"])) == \
        "ERR Command is not available: 'SORT' (Upstash does not document it)"
    assert client.execute(["FCALL", "reads", "1", "k"]) == "v"
    assert client.execute(["FCALL_RO", "locked", "1", "k", "k"]) == "v"
    assert error_of(lambda: client.execute(["FCALL_RO", "locked", "1", "k", "other"])) == DYNAMIC + "other"
    listed = client.execute(["FUNCTION", "LIST", "WITHCODE"])
    assert listed[0][listed[0].index("library_code") + 1] == lib  # the code as loaded, without the gateway's prelude
    client.execute(["FUNCTION", "FLUSH"])


def test_allow_key_locking_scripts_touch_only_declared_keys(client):
    client.set("declared", "1")
    client.set("other", "2")
    assert client.eval(LOCKING + "return redis.call('GET', KEYS[1])", keys=["declared"]) == "1"
    # a key computed in the script is fine when it is one of KEYS
    assert client.eval(LOCKING + "return redis.call('GET', 'decl' .. ARGV[1])", keys=["declared"], args=["ared"]) == "1"
    assert error_of(lambda: client.eval(LOCKING + "return redis.call('GET', 'other')", keys=["declared"])) == DYNAMIC + "other"
    assert error_of(lambda: client.eval(LOCKING + "return redis.call('MGET', KEYS[1], 'other')", keys=["declared"])) == DYNAMIC + "other"
    assert error_of(lambda: client.eval(LOCKING + "redis.call('SET', 'other', 'x')", keys=["declared"])) == DYNAMIC + "other"
    assert client.get("other") == "2"
    assert "FLUSHALL is not allowed" in error_of(lambda: client.eval(LOCKING + "return redis.call('FLUSHALL')", keys=["declared"]))
    assert "FLUSHDB is not allowed" in error_of(lambda: client.eval(LOCKING + "return redis.call('FLUSHDB')", keys=["declared"]))
    assert client.dbsize() == 2
    # without the flag, undeclared keys are allowed (they are slow on Upstash, not refused)
    assert client.eval("return redis.call('GET', 'other')", keys=[]) == "2"
    # the same through EVALSHA of the digest the client computed over its own text
    sha = client.script_load(LOCKING + "return redis.call('GET', 'other')")
    assert error_of(lambda: client.evalsha(sha, keys=["declared"])) == DYNAMIC + "other"
    # error line numbers are those of the client's script
    assert "user_script:3:" in error_of(lambda: client.eval(LOCKING + "local a = 1\nreturn nosuchglobal", keys=["declared"]))


def test_record_limit_counts_growth_by_append(client):
    limit = 100 * 1024 * 1024  # the payg plan's record size
    assert client.setrange("big", limit - 1, "x") == limit
    assert error_of(lambda: client.append("big", "y")) == "ERR max single record size exceeded"
    assert client.strlen("big") == limit
    assert error_of(lambda: client.setrange("big", limit, "y")) == "ERR max single record size exceeded"
    assert client.getrange("big", 0, 0) == "\x00"  # reads are unaffected
    assert client.delete("big") == 1  # and deletes


def test_record_limit_on_collections(redis_server):
    g = Gateway(redis_server, "--max-record-size", "20000")
    try:
        c = Upstash(url=g.url, token=TOKEN)
        c.flushdb()
        assert c.rpush("l", *(["x" * 100] * 50)) == 50
        assert error_of(lambda: c.rpush("l", *(["y" * 1000] * 30))) == "ERR max single record size exceeded"
        assert c.llen("l") == 50
        assert error_of(lambda: c.hset("h", values={"f": "v" * 25000})) == "ERR max single record size exceeded"
        assert c.hset("h", values={"f": "v" * 1000}) == 1
        for i in range(15):
            c.hset("h", values={f"f{i}": "v" * 1000})
        assert error_of(lambda: c.hset("h", values={"g": "v" * 9000})) == "ERR max single record size exceeded"
        assert error_of(lambda: c.sadd("s", "m" * 30000)) == "ERR max single record size exceeded"
        assert c.set("k", "v" * 19000) is True
        assert error_of(lambda: c.append("k", "v" * 2000)) == "ERR max single record size exceeded"
        assert c.lrange("l", 0, 0) == ["x" * 100] and c.delete("l", "h", "k") == 3
    finally:
        g.stop()


def test_upstash_answers_pinned_by_the_sdk_tests(client):
    client.xadd("stream", "*", {"field": "value"})
    assert client.xinfo_consumers("stream", "nonexistent_group") == []
    client.zadd("sorted_set", {"member1": 1, "member2": 2, "member3": 3, "member4": 4})
    assert client.execute(["ZRANGESTORE", "destination", "sorted_set", "0", "2", "LIMIT", "1", "1"]) == 1
    assert client.zrange("destination", 0, -1, withscores=True) == [("member2", 2.0)]
    assert client.execute(["ZRANGESTORE", "destination", "sorted_set", "0", "-1", "REV", "LIMIT", "0", "2"]) == 2
    assert client.zrange("destination", 0, -1) == ["member3", "member4"]
    p = client.pipeline()
    for i in range(1000):
        p.xadd("trimmed", "*", {"i": str(i)})
    p.exec()
    client.xtrim("trimmed", maxlen=300, approximate=True)
    assert client.xlen("trimmed") == 300
    client.xtrim("trimmed", maxlen=50, approximate=True, limit=10)  # with LIMIT it stays approximate
    assert client.xlen("trimmed") > 50


def test_wait_and_waitaof_are_served_without_stalling_others(client, gateway):
    assert client.execute(["WAIT", "0", "0"]) == 0
    assert client.execute(["WAITAOF", "0", "0", "0"]) == [1, 0]
    answered = []

    def other():
        time.sleep(0.2)
        start = time.monotonic()
        answered.append((Upstash(url=gateway.url, token=TOKEN).execute(["PING"]), time.monotonic() - start))

    t = threading.Thread(target=other)
    t.start()
    start = time.monotonic()
    assert client.execute(["WAIT", "1", "1500"]) == 0  # no replica: waits out its timeout
    took = time.monotonic() - start
    t.join()
    assert 1.4 < took < 5
    assert answered and answered[0][0] == "PONG" and answered[0][1] < 0.5, answered


def test_config_is_notify_keyspace_events_only(client):
    assert client.execute(["CONFIG", "SET", "notify-keyspace-events", "KEA"]) == "OK"
    assert client.execute(["CONFIG", "GET", "notify-keyspace-events"]) == ["notify-keyspace-events", "AKE"]
    assert client.execute(["CONFIG", "GET", "maxmemory"]) == []
    assert client.execute(["CONFIG", "GET", "*"]) == ["notify-keyspace-events", "AKE"]
    assert "only allowed for notify-keyspace-events" in error_of(lambda: client.execute(["CONFIG", "SET", "maxmemory", "1"]))
    assert "not available" in error_of(lambda: client.execute(["CONFIG", "REWRITE"]))
    client.execute(["CONFIG", "SET", "notify-keyspace-events", ""])


def test_acl_subcommands_upstash_documents(client, gateway):
    token = client.execute(["ACL", "GENTOKEN", "app", "an-app-password-1"])
    assert token.startswith("upshift.")
    assert client.execute(["ACL", "SETUSER", "app", "on", ">" + token, "~app:*", "+get", "+set", "+ping"]) == "OK"
    assert "app" in client.execute(["ACL", "USERS"])
    assert client.execute(["ACL", "WHOAMI"]) == "default"
    assert client.execute(["ACL", "RESTTOKEN", "app", "an-app-password-1"]) == token
    assert client.execute(["ACL", "RESTTOKEN", "app", token]) == token
    assert "Wrong password" in error_of(lambda: client.execute(["ACL", "RESTTOKEN", "app", "wrong-password"]))
    for rules in [["nopass"], [">plain-password"], ["#" + "a" * 64], ["+client|list"]]:
        assert error_of(lambda: client.execute(["ACL", "SETUSER", "app", *rules])).startswith("ERR ")
    assert "default user" in error_of(lambda: client.execute(["ACL", "SETUSER", "default", "off"]))
    assert "not available" in error_of(lambda: client.execute(["ACL", "DRYRUN", "app", "get", "x"]))
    # the token is the user's REST credential: its ACL rules hold over REST
    app = Upstash(url=gateway.url, token=token)
    assert app.set("app:1", "v") is True
    assert app.get("app:1") == "v"
    assert "NOPERM" in error_of(lambda: app.set("other:1", "v"))
    assert "NOPERM" in error_of(lambda: app.delete("app:1"))
    assert "WRONGPASS" in error_of(lambda: Upstash(url=gateway.url, token=token[:-2] + "xx").get("app:1"))
    assert client.execute(["ACL", "DELUSER", "app"]) == 1
    assert "WRONGPASS" in error_of(lambda: app.get("app:1"))


def test_lenient_mode_passes_them_through(redis_server):
    g = Gateway(redis_server, "--compat", "lenient")
    try:
        c = Upstash(url=g.url, token=TOKEN)
        c.flushdb()
        c.rpush("l", "3", "1", "2")
        assert c.execute(["SORT", "l"]) == ["1", "2", "3"]
        assert c.eval("return redis.call('SORT', KEYS[1])", keys=["l"]) == ["1", "2", "3"]
        r = httpx.post(f"{g.url}/", headers={"Authorization": f"Bearer {TOKEN}"}, json=["BLPOP", "l", "0"])
        assert r.status_code == 400 and "not available" in r.json()["error"]  # it would stall the shared connection
    finally:
        g.stop()
