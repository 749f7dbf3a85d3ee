"""Django's PostgreSQL backend, authenticating with DB_PASS_CURRENT then DB_PASS_NEXT (docs/deployment.md).

Built on the multi-host backend (mutt_project.db_failover), so rotation and failover combine.

Settings select it when DB_PASS_CURRENT is set (in Vault or the environment);
every new connection then goes through the rotation in mutt_project.secrets.
"""

from __future__ import annotations

from mutt_project.db_failover import base
from mutt_project.secrets import PasswordPair, authenticate_with_rotation


def _is_auth_error(exc: Exception) -> bool:
    return "password authentication failed" in str(exc)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        parent = super().get_new_connection
        return authenticate_with_rotation(
            PasswordPair("DB"), lambda password: parent({**conn_params, "password": password}), _is_auth_error
        )
