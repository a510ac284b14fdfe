"""What the HTTP test hops (flaky_http_proxy.py, outage_http_proxy.py) share: reading one HTTP
message off a socket, and a threaded loopback listener."""
import socket
import threading


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


def listen(port, serve, banner):
    """Accepts on 127.0.0.1:port forever, each connection served by `serve(conn)` on a thread of
    its own; prints `banner` once listening."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(128)
    print(banner, flush=True)
    while True:
        c, _ = server.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
