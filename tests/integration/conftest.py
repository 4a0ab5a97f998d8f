import pytest

from tests.support.system import System


@pytest.fixture
def system():
    system = System()
    try:
        yield system
    finally:
        system.close()
