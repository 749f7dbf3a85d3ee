"""Email_only delivery: one digest per team per run, sent through Django's mail framework.

Run by Beat every ``EMAIL_DIGEST_SECONDS`` (``remediation.schedule``) on the
maintenance queue (docs/architecture.md, "Alert lifecycle"):

1. ``digests_build``, ONE transaction: the audit rows of Email_only events
   still pending and in no digest are locked (``SKIP LOCKED``), grouped by
   team, and each team with an address gets an ``email_digests`` row (count,
   the first ``EMAIL_DIGEST_MAX_EVENTS`` events, rendered once) whose id is
   written on its audit rows. A team without an address keeps its events
   pending until one is added: nothing is dropped.
2. ``digests_send``: each due digest is locked (``SKIP LOCKED``: one sender),
   sent with its stored subject and body and a Message-ID derived from its
   id, then marked sent with its audit rows (``forward_status = sent``) in the
   same transaction. A failure reschedules it with backoff; after
   ``EMAIL_MAX_RETRIES`` it is ``dead`` (its audit rows too) and an operator
   can retry it from the admin. The digest is never rebuilt, so a retry
   sends the same message; only a crash between the SMTP server's accept and
   our commit can repeat it, with the same Message-ID for the receiver to fold.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from alerts.models import EmailDigest, TeamContact

log = logging.getLogger(__name__)

_PICK_SQL = """
SELECT id, received_at, team_assignment, hostname, message, event_timestamp
  FROM event_audit_log
 WHERE handling = 'Email_only' AND forward_status = 'pending' AND digest_id IS NULL
 ORDER BY received_at, id
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED
"""
_ASSIGN_SQL = """
UPDATE event_audit_log a SET digest_id = v.digest_id::uuid
  FROM unnest(%(ids)s::bigint[], %(received)s::timestamptz[], %(digests)s::text[]) AS v(id, received_at, digest_id)
 WHERE a.id = v.id AND a.received_at = v.received_at
"""
_AUDIT_DONE_SQL = """
UPDATE event_audit_log SET forward_status = %(status)s, forwarded_at = %(at)s
 WHERE digest_id = %(digest)s AND handling = 'Email_only'
"""


@dataclass
class DigestRun:
    built: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


def _render(team: str, rows: list[tuple]) -> tuple[str, str]:
    shown = rows[: settings.EMAIL_DIGEST_MAX_EVENTS]
    subject = f"[MUTT] {len(rows)} event{'s' if len(rows) != 1 else ''} for {team}"
    lines = [f"{len(rows)} Email_only events for team {team}.", ""]
    lines += [f"{ts.isoformat()}  {host}  {message}" for _id, _rcv, _team, host, message, ts in shown]
    if len(rows) > len(shown):
        lines += ["", f"... and {len(rows) - len(shown)} more (see the MUTT audit trail)."]
    return subject, "\n".join(lines) + "\n"


def digests_build() -> int:
    """Group pending Email_only audit rows into one digest per team (one transaction); returns digests made."""
    contacts = {c.team: c.addresses() for c in TeamContact.objects.filter(is_active=True)}
    made = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_PICK_SQL, {"limit": settings.EMAIL_DIGEST_MAX_ROWS})
        by_team: dict[str, list[tuple]] = defaultdict(list)
        for row in cursor.fetchall():
            by_team[row[2] or ""].append(row)
        ids, received, digests = [], [], []
        now = timezone.now()
        for team, rows in sorted(by_team.items()):
            if not contacts.get(team):
                log.warning("email digest: team %r has no address; %d events wait for one", team, len(rows))
                continue
            subject, body = _render(team, rows)
            digest = EmailDigest.objects.create(
                team=team,
                recipients=",".join(contacts[team]),
                subject=subject,
                body=body,
                event_count=len(rows),
                next_attempt_at=now,
            )
            made += 1
            for row in rows:
                ids.append(row[0])
                received.append(row[1])
                digests.append(str(digest.id))
        if ids:
            cursor.execute(_ASSIGN_SQL, {"ids": ids, "received": received, "digests": digests})
    return made


def _send(digest: EmailDigest) -> None:
    message = EmailMessage(
        subject=digest.subject,
        body=digest.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=digest.recipients.split(","),
        headers={"Message-ID": f"<digest-{digest.id}@mutt>", "X-MUTT-Digest": str(digest.id)},
    )
    message.send(fail_silently=False)


def _backoff(attempts: int) -> timedelta:
    base = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=base * (0.5 + random.random() / 2))  # noqa: S311  (jitter, not security)


def _send_one(digest_id: uuid.UUID, run: DigestRun) -> None:
    with transaction.atomic():
        digest = EmailDigest.objects.select_for_update(skip_locked=True).filter(pk=digest_id, status="pending").first()
        if digest is None:
            return  # another sender has it, or it was sent meanwhile
        now = timezone.now()
        try:
            _send(digest)
        except Exception as exc:  # SMTP down, refused, timed out: retried from this row
            digest.attempts += 1
            digest.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if digest.attempts >= settings.EMAIL_MAX_RETRIES:
                digest.status = EmailDigest.Status.DEAD
                with connection.cursor() as cursor:
                    cursor.execute(_AUDIT_DONE_SQL, {"status": "dead", "at": None, "digest": digest.id})
                run.dead += 1
            else:
                digest.next_attempt_at = now + _backoff(digest.attempts)
                run.retried += 1
            digest.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            log.warning("email digest %s not sent (attempt %d): %s", digest.id, digest.attempts, digest.last_error)
            return
        digest.status, digest.sent_at, digest.attempts = EmailDigest.Status.SENT, now, digest.attempts + 1
        digest.save(update_fields=["status", "sent_at", "attempts"])
        with connection.cursor() as cursor:
            cursor.execute(_AUDIT_DONE_SQL, {"status": "sent", "at": now, "digest": digest.id})
        run.sent += 1


def digests_send() -> DigestRun:
    run = DigestRun()
    due = EmailDigest.objects.filter(status="pending", next_attempt_at__lte=timezone.now()).order_by("next_attempt_at")
    for digest_id in due.values_list("id", flat=True)[:1000]:
        _send_one(digest_id, run)
    return run


def email_digests_run() -> dict:
    """Build this period's digests, then send every due one."""
    built = digests_build()
    run = digests_send()
    run.built = built
    return {"built": run.built, "sent": run.sent, "retried": run.retried, "dead": run.dead}
