import threading

from shop.jobs import JobQueue


def test_jobs_come_out_in_order(r):
    q = JobQueue(r, "mail")
    for n in range(3):
        q.enqueue({"n": n})
    assert [q.take()["n"] for _ in range(3)] == [0, 1, 2]
    assert q.take() is None


def test_pending_counts_the_backlog(r):
    q = JobQueue(r, "thumbs")
    q.enqueue({"img": "a.png"})
    q.enqueue({"img": "b.png"})
    assert q.pending() == 2


def test_worker_waits_for_the_next_job(r):
    q = JobQueue(r, "webhooks")
    producer = threading.Timer(0.2, lambda: q.enqueue({"url": "https://example.com/hook"}))
    producer.start()
    try:
        assert q.wait(timeout=3) == {"url": "https://example.com/hook"}
    finally:
        producer.join()
