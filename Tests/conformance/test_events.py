"""Server-sent events (issue #17, item 1): /subscribe, /psubscribe and /monitor stream what Redis
pushes as `data: …` lines, in the shapes the redis-js Subscriber parses; every message published
during the test arrives; a client that goes away frees its Redis connection."""
import http.client
import queue
import socket
import threading
import time

import httpx
import pytest
from upstash_redis import Redis as Upstash

from conftest import READONLY, TOKEN, Gateway

SSE = {"Authorization": f"Bearer {TOKEN}", "Accept": "text/event-stream", "Cache-Control": "no-cache"}


class Stream:
    """An SSE request read on a thread of its own; `lines` gets every `data:` payload. A plain
    http.client connection, so that `close()` really hangs up (as a browser tab or a killed process does)."""

    def __init__(self, url, path, headers=SSE):
        self.lines = queue.Queue()
        self.status = queue.Queue()
        host, port = url.split("//")[1].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.conn.request("POST", path, body=b"[]", headers=headers)
        self.response = self.conn.getresponse()
        self.code = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data: "):
                    self.lines.put(line[len("data: "):])
        except Exception:  # hung up by the test
            return

    def next(self, timeout=5):
        return self.lines.get(timeout=timeout)

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        self.thread.join(timeout=5)


def numsub(redis_port, channel):
    s = socket.create_connection(("127.0.0.1", redis_port))
    s.sendall(f"PUBSUB NUMSUB {channel}\r\n".encode())
    reply = s.recv(1024).decode()
    s.close()
    return int(reply.split("\r\n")[-2][1:])


def wait_for(predicate, seconds=5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_subscribe_delivers_every_message(gateway, redis_server):
    client = Upstash(url=gateway.url, token=TOKEN)
    s = Stream(gateway.url, "/subscribe/chat")
    try:
        assert s.code == 200 and s.headers["content-type"] == "text/event-stream"
        assert s.next() == "subscribe,chat,1"
        sent = [f"hello {i}" for i in range(200)] + ['{"json":true}', "with,commas,inside", "héllo ☃"]
        for m in sent:
            assert client.publish("chat", m) == 1
        assert [s.next() for _ in sent] == [f"message,chat,{m}" for m in sent]
    finally:
        s.close()
    assert wait_for(lambda: numsub(redis_server.port, "chat") == 0), "the Redis connection outlived the HTTP stream"


def test_subscribe_to_several_channels_and_psubscribe(gateway):
    client = Upstash(url=gateway.url, token=TOKEN)
    s = Stream(gateway.url, "/subscribe/a/b")
    p = Stream(gateway.url, "/psubscribe/news.*")
    try:
        assert [s.next(), s.next()] == ["subscribe,a,1", "subscribe,b,2"]
        assert p.next() == "psubscribe,news.*,1"
        client.publish("a", "1")
        client.publish("b", "2")
        client.publish("news.tech", "swift 6")
        client.publish("weather", "rain")
        assert [s.next(), s.next()] == ["message,a,1", "message,b,2"]
        assert p.next() == "pmessage,news.*,news.tech,swift 6"
        with pytest.raises(queue.Empty):
            p.next(timeout=0.5)
    finally:
        s.close()
        p.close()


def test_monitor_streams_commands(gateway):
    client = Upstash(url=gateway.url, token=TOKEN)
    m = Stream(gateway.url, "/monitor")
    try:
        assert m.next() == '"OK"'
        client.set("monitored", "value")
        client.get("monitored")
        seen = [m.next() for _ in range(2)]
        assert '"SET" "monitored" "value"' in seen[0] and '"GET" "monitored"' in seen[1], seen
    finally:
        m.close()


def test_read_only_token_subscribes_but_does_not_monitor(gateway):
    ro = {**SSE, "Authorization": f"Bearer {READONLY}"}
    s = Stream(gateway.url, "/subscribe/ro-chat", headers=ro)
    try:
        assert s.code == 200 and s.next() == "subscribe,ro-chat,1"
    finally:
        s.close()
    r = httpx.post(f"{gateway.url}/monitor", headers=ro)
    assert r.status_code == 400 and "NOPERM" in r.json()["error"]
    assert httpx.post(f"{gateway.url}/subscribe/x", headers={"Accept": "text/event-stream"}).status_code == 401
    r = httpx.post(f"{gateway.url}/subscribe", headers=SSE)
    assert r.status_code == 400 and "needs a channel" in r.json()["error"]


def test_streams_are_bounded_and_freed(redis_server):
    g = Gateway(redis_server, "--max-subscribers", "2")
    try:
        first, second = Stream(g.url, "/subscribe/bounded"), Stream(g.url, "/subscribe/bounded")
        assert first.next() == "subscribe,bounded,1" and second.next() == "subscribe,bounded,1"
        assert numsub(redis_server.port, "bounded") == 2
        r = httpx.post(f"{g.url}/subscribe/bounded", headers=SSE)
        assert r.status_code == 429 and "--max-subscribers" in r.json()["error"]
        first.close()
        assert wait_for(lambda: numsub(redis_server.port, "bounded") == 1)
        third = Stream(g.url, "/subscribe/bounded")  # a freed place is served again
        assert third.next() == "subscribe,bounded,1"
        second.close()
        third.close()
        assert wait_for(lambda: numsub(redis_server.port, "bounded") == 0)
        # the gateway keeps serving plain requests all along
        assert Upstash(url=g.url, token=TOKEN).execute(["PING"]) == "PONG"
    finally:
        g.stop()


def test_a_dead_redis_ends_the_stream(redis_server):
    from conftest import Redis
    r = Redis()
    g = Gateway(r)
    try:
        s = Stream(g.url, "/subscribe/doomed")
        assert s.next() == "subscribe,doomed,1"
        r.stop()
        s.thread.join(timeout=10)
        assert not s.thread.is_alive(), "the HTTP stream stayed open after Redis went away"
        s.close()
    finally:
        g.stop()
