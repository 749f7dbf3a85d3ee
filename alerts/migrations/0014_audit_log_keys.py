"""event_audit_log: one B-tree fewer per classified event, each index kept serving a named query.

- The primary key becomes (received_at, id) instead of (id, received_at). The
  same uniqueness; but in this order it is also the index the operator API and
  the admin list read newest first (``ORDER BY received_at DESC, id DESC``, the
  keyset cursor ``(received_at, id) < (...)``, time-window scans of rule
  health, backtests and the status page), and forwarding's write-back
  (``WHERE id = .. AND received_at = ..``). So ``event_audit_log_received_idx``
  (received_at DESC alone) goes: it cost a B-tree insert per event and, being
  descending on an ascending key, split its pages half full (~40 bytes a row).
- A lookup by ``id`` alone (the admin's change page) reads a BRIN index on
  ``id``: ids grow with the insert order, so a block range matches one id and
  the index costs a few pages per partition instead of a B-tree entry per row.

Kept as they were: ``event_audit_log_correlation_uniq`` (exactly-once arbiter,
trace by correlation id), ``event_audit_log_hostname_idx`` (search by host),
and the partial indexes (rule, e-mail digest, suppression), which hold only
the rows they serve. docs/architecture.md, "Tables and owners".
"""

from django.db import migrations

FORWARD = """
ALTER TABLE event_audit_log DROP CONSTRAINT event_audit_log_pkey;
ALTER TABLE event_audit_log ADD CONSTRAINT event_audit_log_pkey PRIMARY KEY (received_at, id);
DROP INDEX IF EXISTS event_audit_log_received_idx;
CREATE INDEX IF NOT EXISTS event_audit_log_id_brin ON event_audit_log USING brin (id);
"""

BACKWARD = """
DROP INDEX IF EXISTS event_audit_log_id_brin;
CREATE INDEX IF NOT EXISTS event_audit_log_received_idx ON event_audit_log (received_at DESC);
ALTER TABLE event_audit_log DROP CONSTRAINT event_audit_log_pkey;
ALTER TABLE event_audit_log ADD CONSTRAINT event_audit_log_pkey PRIMARY KEY (id, received_at);
"""


class Migration(migrations.Migration):
    dependencies = [("alerts", "0013_outbox_deliveries")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
