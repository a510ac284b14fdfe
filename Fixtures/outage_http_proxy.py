"""An HTTP hop for tests that simulates a target outage, then recovers.

Usage: outage_http_proxy.py LISTEN_PORT TARGET_PORT MODE SECONDS
For SECONDS from the first request it sees, every request gets, by MODE:
  503   an immediate "503 Service Unavailable" (an overloaded or restarting service);
  hang  nothing at all: the connection is accepted, the request read, and no byte answered.
After that, requests are forwarded to 127.0.0.1:TARGET_PORT and the replies returned.
Prints "outage proxy on PORT" once listening. Loopback only.
"""
import socket
import sys
import threading

from http_hop import listen, read_message
import time

listen_port, target_port, mode, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
lock = threading.Lock()
first_request = None


def in_outage():
    global first_request
    with lock:
        if first_request is None:
            first_request = time.monotonic()
        return time.monotonic() - first_request < seconds


def serve(conn):
    upstream = None
    try:
        while True:
            request = read_message(conn)
            if request is None:
                return
            if in_outage():
                if mode == "503":
                    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                    continue
                while conn.recv(65536):  # hang: hold the connection, answer nothing, until the client gives up
                    pass
                return
            if upstream is None:
                upstream = socket.create_connection(("127.0.0.1", target_port))
            upstream.sendall(request)
            response = read_message(upstream)
            if response is None:
                return
            conn.sendall(response)
    except OSError:
        pass
    finally:
        conn.close()
        if upstream is not None:
            upstream.close()


listen(listen_port, serve, f"outage proxy on {listen_port}")
