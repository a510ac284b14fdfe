"""The gateway as any HTTP server (issue #16, item 5): an over-limit Content-Length is answered 413
at once, before any body is sent; a head that trickles in is cut by --header-timeout; a kept-alive
connection left idle is closed after --idle-timeout; well-behaved clients notice none of it."""
import socket
import time

import httpx
from upstash_redis import Redis as Upstash

from conftest import TOKEN, Gateway


def connect(g):
    s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
    return s


def read_all(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        if not chunk:
            return data, True
        data += chunk


def test_declared_length_over_the_limit_is_a_413_at_once(gateway):
    s = connect(gateway)
    start = time.monotonic()
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: 11534336\r\n\r\n")
    data, closed = read_all(s)
    took = time.monotonic() - start
    s.close()
    assert data.startswith(b"HTTP/1.1 413"), data
    assert b"ERR max request size exceeded" in data
    assert closed and took < 2, took
    # under the limit the same request is read and run
    r = httpx.post(f"{gateway.url}/", headers={"Authorization": f"Bearer {TOKEN}"}, json=["ECHO", "x" * 1_000_000])
    assert r.status_code == 200 and len(r.json()["result"]) == 1_000_000


def test_max_request_size_flag_sets_the_limit(redis_server):
    g = Gateway(redis_server, "--max-request-size", "1000")
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{g.url}/", headers=headers, json=["ECHO", "x" * 500]).status_code == 200
        r = httpx.post(f"{g.url}/", headers=headers, json=["ECHO", "x" * 2000])
        assert r.status_code == 413 and r.json() == {"error": "ERR max request size exceeded"}
    finally:
        g.stop()


def test_a_trickling_head_is_cut_by_the_header_timeout(redis_server):
    g = Gateway(redis_server, "--header-timeout", "1", "--idle-timeout", "30")
    try:
        s = connect(g)
        start = time.monotonic()
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        for _ in range(4):  # a header every 0.5 s: each byte is activity, the head never ends
            time.sleep(0.5)
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        data, closed = read_all(s, timeout=5)
        took = time.monotonic() - start
        s.close()
        assert data.startswith(b"HTTP/1.1 408"), data
        assert closed and 0.9 < took < 3, took
        # a quick client on the same gateway is served
        assert Upstash(url=g.url, token=TOKEN).execute(["PING"]) == "PONG"
    finally:
        g.stop()


def test_an_idle_kept_alive_connection_is_closed(redis_server):
    g = Gateway(redis_server, "--idle-timeout", "1")
    try:
        s = connect(g)
        s.sendall(b"GET /ping?_token=" + TOKEN.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200") and b"PONG" in first
        start = time.monotonic()
        rest, closed = read_all(s, timeout=5)
        took = time.monotonic() - start
        s.close()
        assert closed and rest == b"" and 0.5 < took < 3, took
        # a client that keeps its connection busy is not cut
        with httpx.Client() as c:
            for _ in range(15):
                assert c.get(f"{g.url}/ping?_token={TOKEN}").status_code == 200
                time.sleep(0.1)
    finally:
        g.stop()


def test_idle_timeout_does_not_cut_an_event_stream(redis_server):
    g = Gateway(redis_server, "--idle-timeout", "1")
    try:
        with httpx.Client(timeout=httpx.Timeout(10, read=None)) as c:
            with c.stream("POST", f"{g.url}/subscribe/quiet", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                lines = r.iter_lines()
                assert next(lines) == "data: subscribe,quiet,1"
                time.sleep(2.5)
                Upstash(url=g.url, token=TOKEN).publish("quiet", "still here")
                assert [l for l in (next(lines), next(lines)) if l] == ["data: message,quiet,still here"]
    finally:
        g.stop()
