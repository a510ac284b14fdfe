"""Fixtures: a throwaway redis-server and `upshift gateway` in front of it, for the official SDKs."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

TOKEN = "conformance-token"
READONLY = "conformance-readonly"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def upshift_bin():
    if os.environ.get("UPSHIFT_BIN") and os.path.exists(os.environ["UPSHIFT_BIN"]):
        return os.environ["UPSHIFT_BIN"]
    path = subprocess.run(["swift", "build", "--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(path, "upshift")


class Redis:
    def __init__(self, *extra):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="upshift-conformance-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--loglevel", "warning", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start (arguments {list(extra)})")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Gateway:
    def __init__(self, redis, *extra):
        # Logs go to a file: an unread pipe fills up and stalls the server mid-request.
        self.log = tempfile.NamedTemporaryFile(prefix="upshift-gateway-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [upshift_bin(), "gateway", "--listen", "127.0.0.1:0", "--redis", f"redis://127.0.0.1:{redis.port}",
             "--token", TOKEN, "--readonly-token", READONLY, "--log-level", "debug", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError(f"gateway did not start: {line}{self.logs()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def logs(self):
        with open(self.log.name) as f:
            return f.read()

    def stop(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.log.name) if os.path.exists(self.log.name) else None


@pytest.fixture(scope="module")
def redis_server():
    r = Redis()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def gateway(redis_server):
    g = Gateway(redis_server)
    yield g
    g.stop()


@pytest.fixture()
def client(gateway):
    from upstash_redis import Redis as Upstash
    c = Upstash(url=gateway.url, token=TOKEN)
    c.flushdb()
    return c
