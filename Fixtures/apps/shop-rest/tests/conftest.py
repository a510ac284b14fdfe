import pytest

from shop_rest.store import connect


@pytest.fixture
def r():
    client = connect()
    client.flushdb()
    yield client
