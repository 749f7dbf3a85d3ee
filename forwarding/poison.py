"""issue 13: an outbox row that kills its worker ends as a dead letter (docs/reliability.md, "Bounds").

Each lease counts a delivery (``alert_outbox.deliveries``: +1 at the claim,
-1 when a row is given back unsent, 0 after a recorded retry); a row leased
before without an outcome is a suspect.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from django.conf import settings

from forwarding.outbox_lease import LeasedAlert, outbox_release

if TYPE_CHECKING:
    from forwarding.services import ForwardResult, Outcomes

log = logging.getLogger("forwarding.services")


def poison_suspect(row: LeasedAlert, pending: deque, outcomes: Outcomes, result: ForwardResult) -> bool:
    """issue 13: a row whose earlier leases ended without an outcome (its worker died) is sent alone.

    The rest of the chunk is released and the outcomes so far are written first,
    so only this row's delivery count grows if it kills the worker again; past
    ``FORWARD_MAX_DELIVERIES`` it becomes a dead letter instead of being sent.
    Returns True when the row was dead-lettered (not to be sent).
    """
    if row.deliveries <= 1:
        return False
    others = [r for r in pending if r is not row]
    outbox_release(others)
    for r in others:
        pending.remove(r)
    outcomes.flush(result)
    if row.deliveries > settings.FORWARD_MAX_DELIVERIES:
        reason = f"outbox row not finished after {row.deliveries - 1} deliveries (its worker died each time)"
        log.error("forward dead letter: %s", reason, extra={"correlation_id": str(row.correlation_id)})
        pending.remove(row)
        outcomes.dead.append((row, reason, None))
        outcomes.flush(result)
        return True
    return False
