"""The event-loop fast path (plain commands served where they arrive) answers exactly as the async
responder does: same statuses, same bodies, for replies, errors, refusals, encodings and pipelines;
and replies keep request order when a connection mixes fast and slow requests back to back."""
import base64
import socket

import httpx
import pytest

from conftest import READONLY, TOKEN, Gateway, Redis

AUTH = {"Authorization": f"Bearer {TOKEN}"}
B64 = {**AUTH, "Upstash-Encoding": "base64"}
RO = {"Authorization": f"Bearer {READONLY}"}

REQUESTS = [
    ("POST", "/", AUTH, ["SET", "k", "v"]), ("POST", "/", AUTH, ["GET", "k"]), ("POST", "/", B64, ["GET", "k"]),
    ("POST", "/", AUTH, ["GET", "missing"]), ("POST", "/", AUTH, ["INCR", "k"]), ("POST", "/", AUTH, ["RPUSH", "l", "a", "b"]),
    ("POST", "/", AUTH, ["LRANGE", "l", "0", "-1"]), ("POST", "/", B64, ["HSET", "h", "f", "1"]), ("POST", "/", B64, ["HGETALL", "h"]),
    ("POST", "/", AUTH, ["SORT", "l"]), ("POST", "/", AUTH, ["BLPOP", "l", "0"]), ("POST", "/", AUTH, ["NOSUCH"]),
    ("POST", "/", AUTH, ["GET"]), ("POST", "/", AUTH, ["CONFIG", "GET", "*"]), ("POST", "/", AUTH, ["XINFO", "CONSUMERS", "l", "g"]),
    ("POST", "/", RO, ["GET", "k"]), ("POST", "/", RO, ["SET", "k", "x"]), ("POST", "/", RO, ["SCAN", "0"]),
    ("POST", "/", {"Authorization": "Bearer wrong"}, ["GET", "k"]), ("POST", "/", AUTH, "[\"GET\","),
    ("GET", "/get/k", AUTH, None), ("GET", "/get/k?_token=" + TOKEN, {}, None), ("GET", "/get/k?_token=" + READONLY, {}, None),
    ("GET", "/set/k/v2?EX=100", AUTH, None), ("GET", "/ttl/k", AUTH, None), ("GET", "/nosuchcommand/x", AUTH, None),
    ("POST", "/set/bin", AUTH, bytes([0, 255, 254, 13, 10])), ("POST", "/get/bin", B64, b""), ("GET", "/sort/l", AUTH, None),
    ("POST", "/pipeline", AUTH, [["SET", "a", "1"], ["INCR", "a"], ["SORT", "l"], ["GET", "a"], ["LPUSH", "a", "x"]]),
    ("POST", "/pipeline", B64, [["GET", "a"], ["HGETALL", "h"], ["EVAL", "return 1", "0"], ["GET", "bin"]]),
    ("POST", "/pipeline", RO, [["GET", "a"], ["DEL", "a"]]),
    ("POST", "/multi-exec", AUTH, [["SET", "t", "1"], ["INCR", "t"]]),
]


def run_all(url):
    out = []
    with httpx.Client() as c:
        for method, path, headers, body in REQUESTS:
            if isinstance(body, (bytes, str)):
                r = c.request(method, url + path, headers=headers, content=body)
            elif body is None:
                r = c.request(method, url + path, headers=headers)
            else:
                r = c.request(method, url + path, headers=headers, json=body)
            out.append((method, path, r.status_code, r.text))
    return out


def test_fast_and_async_paths_answer_alike():
    r = Redis()
    fast, slow = Gateway(r), Gateway(r, "--no-fast-path")
    try:
        answers = {}
        for name, g in [("fast", fast), ("slow", slow)]:
            httpx.post(g.url, headers=AUTH, json=["FLUSHALL"])
            answers[name] = run_all(g.url)
        for a, b in zip(answers["fast"], answers["slow"]):
            assert a == b
        assert "path-taken" in fast.logs() and "path-taken" not in slow.logs()
    finally:
        fast.stop()
        slow.stop()
        r.stop()


def responses(sock, count):
    """`count` HTTP responses read off one socket, in order: (status, body)."""
    data, out = b"", []
    sock.settimeout(10)
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, data = data.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ")[1])
        length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
        while len(data) < length:
            data += sock.recv(65536)
        out.append((status, data[:length]))
        data = data[length:]
    return out


@pytest.mark.parametrize("order", ["fast-slow-fast", "slow-fast-slow"])
def test_pipelined_requests_keep_their_order(gateway, order):
    def request(body):
        raw = body.encode()
        return (f"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(raw)}\r\n\r\n").encode() + raw
    fast = lambda i: request(f'["ECHO","fast-{i}"]')
    slow = lambda i: request(f'["EVAL","return ARGV[1]","0","slow-{i}"]')  # scripts go through the async responder
    kinds = order.split("-") * 5
    s = socket.create_connection(("127.0.0.1", gateway.port))
    s.sendall(b"".join((fast if k == "fast" else slow)(i) for i, k in enumerate(kinds)))
    got = responses(s, len(kinds))
    s.close()
    assert [b for _, b in got] == [f'{{"result":"{k}-{i}"}}'.encode() for i, k in enumerate(kinds)]
