"""Email_only digests with real workers, PostgreSQL, Redis and a local SMTP sink (aiosmtpd)."""

from __future__ import annotations

import time
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from alerts.models import EmailDigest, EventAuditLog, TeamContact
from mutt_project.celery import app
from mutt_project.queues import Queue, TaskName
from tests.alerts.factories import make_rule
from tests.conftest import wait_for
from tests.lifecycle.test_lifecycle_workers import _post, _syslog

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SMTP_PORT = 18214


class _Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _digest_run() -> None:
    app.send_task(TaskName.EMAIL_DIGESTS.value, queue=Queue.MAINTENANCE.value)  # what Beat sends


def test_email_only_events_reach_the_sink_as_one_digest_per_team_and_an_outage_loses_none(client, workers, api_key):
    TeamContact.objects.create(team="NETO", emails="neto@example.net")
    TeamContact.objects.create(team="SEC", emails="sec@example.net, soc@example.net")
    make_rule(match_string="disk", prod_handling="Email_only", team_assignment="NETO")
    make_rule(match_string="login", prod_handling="Email_only", team_assignment="SEC")
    workers.start("classify")
    smtp_env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(SMTP_PORT), "EMAIL_RETRY_BASE_SECONDS": "1"}
    workers.start("maintenance", env=smtp_env)

    _post(client, api_key, [_syslog(f"disk {i} almost full", host=f"srv-{i}") for i in range(5)])
    _post(client, api_key, [_syslog(f"login failure {i}", host="bastion") for i in range(3)])
    wait_for(lambda: EventAuditLog.objects.filter(forward_status="pending").count() == 8, message="8 pending")

    _digest_run()  # SMTP is down: the digests are built and wait
    wait_for(lambda: sorted(EmailDigest.objects.values_list("team", "attempts", "status")) == [("NETO", 1, "pending"), ("SEC", 1, "pending")], message="failed once")  # fmt: skip
    assert EventAuditLog.objects.filter(forward_status="pending").count() == 8
    assert all(d.last_error for d in EmailDigest.objects.all())  # the SMTP error, kept for the operator

    sink = _Collect()
    controller = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        deadline = time.monotonic() + 30
        while EmailDigest.objects.filter(status="sent").count() < 2 and time.monotonic() < deadline:
            _digest_run()  # Beat's next runs, until the backoff lets them through
            time.sleep(1)
        assert EmailDigest.objects.filter(status="sent").count() == 2
        _digest_run()
        time.sleep(2)  # a later run finds nothing to send again
    finally:
        controller.stop()

    assert len(sink.messages) == 2
    by_rcpt = {tuple(r): m for r, m in sink.messages}
    neto, sec = by_rcpt[("neto@example.net",)], by_rcpt[("sec@example.net", "soc@example.net")]
    assert neto["Subject"] == "[MUTT] 5 events for NETO" and sec["Subject"] == "[MUTT] 3 events for SEC"
    assert all(f"disk {i} almost full" in neto.get_payload() for i in range(5))
    digests = {d.team: d for d in EmailDigest.objects.all()}
    assert neto["X-MUTT-Digest"] == str(digests["NETO"].id)
    rows = list(EventAuditLog.objects.all())
    assert {r.forward_status for r in rows} == {"sent"}
    assert sorted(str(r.digest_id) for r in rows) == sorted(
        [str(digests["NETO"].id)] * 5 + [str(digests["SEC"].id)] * 3
    )
