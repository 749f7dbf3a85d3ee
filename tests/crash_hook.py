"""Loaded only into test and chaos workers (``celery worker -I tests.crash_hook``): a worker
exits hard when it stages an event whose message equals ``MUTT_TEST_CRASH_ON_MESSAGE``
(classify), or when it sends an alert whose message equals
``MUTT_TEST_CRASH_ON_FORWARD_MESSAGE`` (forward).

The integration tests and ``make chaos`` use it to show that work which kills
its worker every time ends as a dead letter. Production code knows nothing of it.
"""

from __future__ import annotations

import os

from alerts.services import committing

_MESSAGE = os.environ.get("MUTT_TEST_CRASH_ON_MESSAGE")
_FORWARD_MESSAGE = os.environ.get("MUTT_TEST_CRASH_ON_FORWARD_MESSAGE")
_stage_line = committing.stage_line


def _stage_line_or_crash(event, *args, **kwargs):
    if _MESSAGE and isinstance(event, dict) and event.get("message") == _MESSAGE:
        os._exit(70)
    return _stage_line(event, *args, **kwargs)


committing.stage_line = _stage_line_or_crash

if _FORWARD_MESSAGE:
    from forwarding import services as _forwarding

    _alert_send = _forwarding.alert_send

    def _alert_send_or_crash(alert, *args, **kwargs):
        if isinstance(alert, dict) and alert.get("message") == _FORWARD_MESSAGE:
            os._exit(71)
        return _alert_send(alert, *args, **kwargs)

    _forwarding.alert_send = _alert_send_or_crash
