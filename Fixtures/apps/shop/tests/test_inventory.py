from concurrent.futures import ThreadPoolExecutor

from shop.inventory import Inventory


def test_concurrent_reservations_never_oversell(r):
    inventory = Inventory(r)
    inventory.stock("lamp", 3)
    with ThreadPoolExecutor(max_workers=6) as buyers:
        reservations = [buyers.submit(inventory.reserve, "lamp") for _ in range(6)]
        # .result() raises what a buyer raised, so the test fails with the server's own words
        results = [reservation.result() for reservation in reservations]
    assert sorted(results) == [False, False, False, True, True, True]
    assert inventory.left("lamp") == 0
