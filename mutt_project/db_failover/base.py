"""Django's PostgreSQL backend for a multi-host ``DATABASE_URL`` (docs/ha.md, "PostgreSQL").

libpq does the failover itself: it tries the hosts in order and keeps the
first that satisfies ``target_session_attrs`` (``read-write``: the primary).
This backend only turns libpq's "every host failed" into an error that names
the setting and the hosts, so an operator reading a log line or a start-up
failure knows which setting to look at.
"""

from __future__ import annotations

from django.db.backends.postgresql import base

from mutt_project.database_url import no_writable_host_message


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        try:
            return super().get_new_connection(conn_params)
        except base.Database.OperationalError as exc:
            if "," not in str(self.settings_dict.get("HOST") or ""):
                raise
            raise base.Database.OperationalError(no_writable_host_message(self.settings_dict, str(exc))) from exc
