"""A benchmark's own database next to the one in ``DATABASE_URL``: created once, migrated, reused.

The benches that fill millions of rows (api, dashboard, forward) never touch the
database of a running stack or of the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def bench_database_url(name: str) -> str:
    """``DATABASE_URL`` with the database ``name`` instead."""
    url = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(url._replace(path="/" + name))


def bench_database(name: str) -> str:
    """Create database ``name`` when missing, migrate it, and return its URL."""
    import psycopg2

    admin = psycopg2.connect(os.environ["DATABASE_URL"])
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = bench_database_url(name)
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return url
