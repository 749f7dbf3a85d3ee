"""Each pytest-xdist worker gets a PostgreSQL and a Redis of its own.

Loaded with ``-p tests.worker_services`` (pyproject's addopts), so this module
is imported while pytest parses its arguments: before pytest-django imports
the settings, which read ``DATABASE_URL`` and ``REDIS_URL`` once. In an xdist
worker (``PYTEST_XDIST_WORKER`` = ``gw0``, ``gw1``, ...) it points those at the
servers ``scripts/test.sh`` started for that worker under
``$MUTT_TEST_SERVICES_DIR/<worker>/``. Why servers of their own rather than one
shared pair: tests stop and restart PostgreSQL and Redis (outage tests), flush
Redis and drop the test database; on shared servers one worker's outage test
would fail another worker's test.

Outside xdist (one process) nothing changes: the environment ``scripts/test.sh``
exported is used as it is.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def services_env_read(path: Path) -> dict[str, str]:
    """The ``export NAME='value'`` lines of a services.env file."""
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


def _point_at_own_services() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    root = os.environ.get("MUTT_TEST_SERVICES_DIR")
    if not worker or not root:
        return
    env_file = Path(root) / worker / "services.env"
    if not env_file.is_file():
        raise RuntimeError(f"no test services for xdist worker {worker}: {env_file} is missing (scripts/test.sh)")
    os.environ.update(services_env_read(env_file))
    os.environ["MUTT_TEST_SERVICES_ENV"] = str(env_file)


_point_at_own_services()
