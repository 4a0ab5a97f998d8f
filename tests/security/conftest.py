"""The security tests attack a real system: the same fixtures as the integration tests (services in-process on
their own databases and vhost, the gateway on a free port)."""

from tests.integration.conftest import system  # noqa: F401  (the fixture)
from tests.integration.test_gateway import gateway  # noqa: F401  (the fixture)
