"""Loaded only into test workers (``celery worker -I tests.crash_hook``): a worker exits hard
when it stages an event whose message equals ``MUTT_TEST_CRASH_ON_MESSAGE``.

The integration tests use it to show that a batch which kills its worker
every time ends as a dead letter. Production code knows nothing of it.
"""

from __future__ import annotations

import os

from alerts.services import committing

_MESSAGE = os.environ["MUTT_TEST_CRASH_ON_MESSAGE"]
_stage_line = committing.stage_line


def _stage_line_or_crash(event, *args, **kwargs):
    if isinstance(event, dict) and event.get("message") == _MESSAGE:
        os._exit(70)
    return _stage_line(event, *args, **kwargs)


committing.stage_line = _stage_line_or_crash
