import pytest

from shop.store import connect


@pytest.fixture
def r():
    client = connect()
    client.flushdb()
    yield client
    client.close()
