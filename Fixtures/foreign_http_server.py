"""Some other web server, for tests of a --target that is not Upstash: answers every request
with a web page (200 for /, 404 elsewhere), as a site or a default nginx page would.

Usage: foreign_http_server.py PORT. Prints "foreign server on PORT" once listening. Loopback only.
(socketserver, not http.server's HTTPServer: that one looks up the host's name, which stalls offline.)
"""
import http.server
import socketserver
import sys

PAGE = b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome</h1></body></html>"


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200 if self.path.split("?")[0] == "/" else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    do_GET = do_POST = answer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


port = int(sys.argv[1])
with Server(("127.0.0.1", port), Handler) as server:
    print(f"foreign server on {port}", flush=True)
    server.serve_forever()
