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

from http_hop import listen, read_message

listen_port, target_port, rate, seed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
lock = threading.Lock()


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


listen(listen_port, serve, f"flaky proxy on {listen_port}")
