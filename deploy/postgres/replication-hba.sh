#!/bin/sh
# Run once by the postgres image on a fresh data volume (docker-entrypoint-initdb.d):
# let the standby of the compose profile `ha` stream from this primary, and make
# every commit wait for it (synchronous replication: a 202 is on both servers).
set -eu
echo "host replication mutt all scram-sha-256" >> "$PGDATA/pg_hba.conf"
if [ "${MUTT_PG_SYNCHRONOUS_STANDBY:-}" != "" ]; then
  echo "synchronous_standby_names = '$MUTT_PG_SYNCHRONOUS_STANDBY'" >> "$PGDATA/postgresql.conf"
fi
