"""PROMETHEUS_MULTIPROC_DIR: every process makes sure it exists before any metric is created.

prometheus_client's multiprocess mode writes one file per process into this
directory and fails deep inside a metric update when it is missing. Settings
call ``metrics_dir_ensure`` at start-up, so a process either creates the
directory (an empty volume, a fresh ``/tmp``) or stops at once with a message
naming the setting.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

SETTING = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir_ensure(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """Create the metrics directory when the setting names one; return its path (None: not set)."""
    path = environ.get(SETTING, "").strip()
    if not path:
        return None
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{SETTING}={path!r} cannot be created ({exc.strerror}): point it at a writable directory "
            "(an emptyDir or tmpfs in a container) or unset it"
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ImproperlyConfigured(
            f"{SETTING}={path!r} is not writable by this process: point it at a writable directory"
        )
    return path
