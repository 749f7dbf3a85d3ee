#!/usr/bin/env bash
# Start (or stop) MUTT's local PostgreSQL and Redis as plain processes under a
# data directory, installing the Debian packages first when they are missing.
#
#   scripts/services.sh start DATA_DIR PG_PORT REDIS_PORT
#   scripts/services.sh stop  DATA_DIR
#   scripts/services.sh stop-redis|stop-pg DATA_DIR   (failure tests; start again with start)
#
# Writes DATA_DIR/services.env (DATABASE_URL, REDIS_URL) for the caller to
# source. Idempotent: a second start reuses the data and running servers.
set -euo pipefail

cmd=${1:?start|stop}
data=$(mkdir -p "${2:?data dir}" && cd "$2" && pwd)
# Ports: given, else the ones this data dir was last started with, else defaults.
saved_pg=55432; saved_redis=56379
[ -f "$data/ports" ] && read -r saved_pg saved_redis < "$data/ports"
pg_port=${3:-$saved_pg}
redis_port=${4:-$saved_redis}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
  return 1
}

ensure_packages() {
  local need=()
  pg_bindir >/dev/null || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  if [ ${#need[@]} -gt 0 ]; then
    echo "services: installing ${need[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# PostgreSQL refuses to run as root: run it as the 'postgres' user (created by
# the Debian package) or, when that is missing, a 'mutt' system user.
pg_user() {
  if [ "$(id -u)" != 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id mutt >/dev/null 2>&1 || useradd --system --no-create-home mutt
  echo mutt
}

as_pg() {
  local user; user=$(pg_user)
  if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

start() {
  ensure_packages
  local bindir; bindir=$(pg_bindir)
  local pgdata="$data/postgres" user; user=$(pg_user)
  mkdir -p "$data"
  echo "$pg_port $redis_port" > "$data/ports"
  [ -f "$data/pg_password" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$data/pg_password")
  [ -f "$data/redis_password" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$data/redis_password")
  local pgpass; pgpass=$(cat "$data/pg_password")
  local redispass; redispass=$(cat "$data/redis_password")

  # The data directory's parents must be traversable by the postgres user.
  chmod o+x "$data" 2>/dev/null || true
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    mkdir -p "$pgdata"; [ "$(id -u)" = 0 ] && chown "$user" "$pgdata"
    local pwfile; pwfile=$(mktemp); printf '%s' "$pgpass" > "$pwfile"; chmod 644 "$pwfile"
    as_pg "$bindir/initdb" -D "$pgdata" -U mutt --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pwfile"
    cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgdata'
max_connections = 200
shared_buffers = 256MB
logging_collector = off
# bench/pipeline.py reads commit times of audit rows (pg_xact_commit_timestamp)
track_commit_timestamp = on
CONF
  fi
  if ! as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -o "-p $pg_port" -w -t 60 start >/dev/null
  fi
  PGPASSWORD="$pgpass" "$bindir/psql" -h 127.0.0.1 -p "$pg_port" -U mutt -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='mutt'" | grep -q 1 \
    || PGPASSWORD="$pgpass" "$bindir/createdb" -h 127.0.0.1 -p "$pg_port" -U mutt mutt

  mkdir -p "$data/redis"
  (umask 077; cat > "$data/redis/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
dir $data/redis
daemonize yes
pidfile $data/redis/redis.pid
logfile $data/redis/redis.log
appendonly yes
appendfsync always
maxmemory-policy noeviction
requirepass $redispass
CONF
)
  # PONG only: while Redis replays its append-only file it answers LOADING.
  redis_up() { redis-cli -p "$redis_port" -a "$redispass" --no-auth-warning ping 2>/dev/null | grep -q PONG; }
  if ! redis_up; then
    redis-cli -p "$redis_port" -a "$redispass" --no-auth-warning ping 2>/dev/null | grep -q LOADING \
      || redis-server "$data/redis/redis.conf"
    for _ in $(seq 1 300); do redis_up && break; sleep 0.1; done
    redis_up || { echo "services: Redis did not come up (see $data/redis/redis.log)" >&2; exit 1; }
  fi

  (umask 077; cat > "$data/services.env" <<ENV
export DATABASE_URL='postgres://mutt:$pgpass@127.0.0.1:$pg_port/mutt'
export REDIS_URL='redis://:$redispass@127.0.0.1:$redis_port/0'
export MUTT_PG_BINDIR='$bindir'
export MUTT_PG_DATA='$pgdata'
export MUTT_PG_PORT='$pg_port'
export MUTT_REDIS_PORT='$redis_port'
export MUTT_REDIS_CONF='$data/redis/redis.conf'
export MUTT_PG_USER='$user'
ENV
)
  echo "services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (data in $data)" >&2
}

stop() {
  local bindir; bindir=$(pg_bindir) || true
  stop_redis
  if [ -n "${bindir:-}" ] && [ -s "$data/postgres/PG_VERSION" ]; then
    as_pg "$bindir/pg_ctl" -D "$data/postgres" -m fast -w stop >/dev/null 2>&1 || true
  fi
  echo "services: stopped" >&2
}

stop_redis() {
  [ -f "$data/redis/redis.pid" ] && kill "$(cat "$data/redis/redis.pid")" 2>/dev/null || true
  for _ in $(seq 1 50); do [ -f "$data/redis/redis.pid" ] && kill -0 "$(cat "$data/redis/redis.pid")" 2>/dev/null || break; sleep 0.1; done
}

stop_pg() {
  local bindir; bindir=$(pg_bindir)
  as_pg "$bindir/pg_ctl" -D "$data/postgres" -m fast -w stop >/dev/null 2>&1 || true
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  stop-redis) stop_redis ;;  # for failure tests; `start` brings it back
  stop-pg) stop_pg ;;
  *) echo "usage: $0 start|stop DATA_DIR [PG_PORT REDIS_PORT]" >&2; exit 2 ;;
esac
