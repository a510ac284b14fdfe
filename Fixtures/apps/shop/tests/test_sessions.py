import time

from shop.sessions import Sessions


def test_a_session_holds_its_fields(r):
    sessions = Sessions(r)
    sid = sessions.create("ada", cart="3 items", theme="dark")
    assert sessions.get(sid) == {"user": "ada", "cart": "3 items", "theme": "dark"}


def test_touch_extends_the_session(r):
    sessions = Sessions(r, ttl_ms=2000)
    sid = sessions.create("bob")
    r.pexpire(f"session:{sid}", 500)
    assert sessions.touch(sid)
    assert sessions.ttl_ms_left(sid) > 1000


def test_an_idle_session_expires(r):
    sessions = Sessions(r, ttl_ms=100)
    sid = sessions.create("eve")
    time.sleep(0.25)
    assert sessions.get(sid) is None
    assert not sessions.touch(sid)


def test_logout_destroys_the_session(r):
    sessions = Sessions(r)
    sid = sessions.create("mallory")
    assert sessions.destroy(sid)
    assert sessions.get(sid) is None
