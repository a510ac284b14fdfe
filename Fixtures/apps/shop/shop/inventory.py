"""Stock reservations: an optimistic transaction (WATCH the stock, MULTI/EXEC the decrement, retry on conflict)."""
import redis


class Inventory:
    def __init__(self, r):
        self.r = r

    def stock(self, sku, count):
        self.r.set(f"stock:{sku}", count)

    def left(self, sku):
        return int(self.r.get(f"stock:{sku}") or 0)

    def reserve(self, sku, quantity=1):
        key = f"stock:{sku}"
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    have = int(pipe.get(key) or 0)
                    if have < quantity:
                        pipe.unwatch()
                        return False
                    pipe.multi()
                    pipe.decrby(key, quantity)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue
