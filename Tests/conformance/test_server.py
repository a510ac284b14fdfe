"""The gateway as a server: graceful shutdown, no token in its logs, a dead Redis answered with 503."""
import signal
import time

import httpx

from conftest import TOKEN, Gateway, Redis


def test_sigterm_shuts_down_gracefully_and_logs_no_token():
    r = Redis()
    g = Gateway(r)
    try:
        httpx.get(f"{g.url}/set/k/v?_token={TOKEN}")
        httpx.post(f"{g.url}/", json=["GET", "k"], headers={"Authorization": f"Bearer {TOKEN}"})
        g.proc.send_signal(signal.SIGTERM)
        assert g.proc.wait(timeout=10) == 0
        logs = g.proc.stdout.read() + g.logs()
        assert "request" in logs  # debug logging was on
        assert TOKEN not in logs
    finally:
        g.stop()
        r.stop()


def test_dead_redis_is_a_503_and_the_gateway_recovers():
    r = Redis()
    g = Gateway(r)
    port = r.port
    try:
        r.stop()
        resp = httpx.post(f"{g.url}/", json=["PING"], headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status_code == 503 and "unavailable" in resp.json()["error"]
        import subprocess
        back = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                resp = httpx.post(f"{g.url}/", json=["PING"], headers={"Authorization": f"Bearer {TOKEN}"})
                if resp.status_code == 200:
                    break
                time.sleep(0.1)
            assert resp.json() == {"result": "PONG"}
        finally:
            back.kill()
            back.wait()
    finally:
        g.stop()
