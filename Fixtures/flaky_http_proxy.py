"""A deliberately unreliable HTTP hop for tests: forwards requests to a target, but fails a share of them.

Usage: flaky_http_proxy.py LISTEN_PORT TARGET_PORT FAIL_RATE SEED
Per request, at random: answer 503 without forwarding; close the connection without forwarding;
or forward it and then drop the connection before the reply (the command ran, the client never
hears). Prints "flaky proxy on PORT" once listening. Loopback only.
"""
import random
import socket
import sys
import threading

listen_port, target_port, rate, seed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
lock = threading.Lock()


def read_message(conn):
    """One HTTP message with a Content-Length body; None when the peer closes before it is whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def serve(conn):
    upstream = socket.create_connection(("127.0.0.1", target_port))
    try:
        while True:
            request = read_message(conn)
            if request is None:
                return
            with lock:
                roll, kind = rng.random(), rng.randrange(3)
            if roll < rate and kind == 0:
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                continue
            if roll < rate and kind == 1:
                return  # closed before forwarding
            upstream.sendall(request)
            response = read_message(upstream)
            if response is None or roll < rate:
                return  # forwarded, reply lost (or the target hung up)
            conn.sendall(response)
    except OSError:
        pass
    finally:
        conn.close()
        upstream.close()


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(128)
print(f"flaky proxy on {listen_port}", flush=True)
while True:
    c, _ = server.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
