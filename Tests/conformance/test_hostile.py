"""A few thousand malformed or hostile HTTP requests: each gets a 4xx or a close, and the gateway keeps serving."""
import random
import socket

import httpx
from upstash_redis import Redis as Upstash

from conftest import TOKEN


def raw(port, data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        if not read:
            return b""
        return s.recv(65536)
    except OSError:
        return b""
    finally:
        s.close()


def status_of(reply):
    if not reply.startswith(b"HTTP/1.1 "):
        return None  # closed, or nothing
    return int(reply[9:12])


def test_hostile_requests(gateway):
    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bodies = [b"", b"{", b"[", b"[1", b"{}", b"\"x\"", b"[[[[[[[[[[[[[]]]]]]]]]]]]]", b"[{\"a\":1}]", b"[null]",
              b"[\"GET\", {\"k\": 1}]", b"[\"SET\", \"k\", \"\xff\xfe\"]", b"[\"x\"," * 2000, b"[1e999999]", b"\x00" * 100,
              b"[[\"GET\"]", b"[\"GET\"]]", b"[\"\\ud800\"]"]
    statuses = []
    with httpx.Client() as c:
        for i in range(2500):
            body = rng.choice(bodies) if i % 3 else bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
            path = rng.choice(["/", "/pipeline", "/multi-exec", "/set/%zz/v", "/%", "/get/" + "a" * 40000])
            r = c.post(gateway.url + path, content=body, headers=headers)
            statuses.append(r.status_code)
        r = c.post(gateway.url + "/", content=b"x" * (11 * 1024 * 1024), headers=headers)
        assert r.status_code == 413 and "max request size" in r.json()["error"]
    assert all(400 <= s < 500 or s == 200 for s in statuses), sorted(set(statuses))
    for i in range(600):
        junk = rng.choice([b"GARBAGE\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n[\"GET\"",
                           b"POST / HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n", bytes(rng.getrandbits(8) for _ in range(300)),
                           b"GET /" + b"%" * 3000 + b" HTTP/1.1\r\n\r\n"])
        st = status_of(raw(gateway.port, junk, read=i % 2 == 0))
        assert st is None or 400 <= st < 500, st
    client = Upstash(url=gateway.url, token=TOKEN)
    assert client.set("still", "serving") is True
    assert client.get("still") == "serving"
    assert gateway.proc.poll() is None
