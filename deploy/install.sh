#!/usr/bin/env bash
# Install (or remove) MUTT as systemd services on RHEL 8/9 (and rebuilds) or
# Debian/Ubuntu. Run from a checkout, as root. Idempotent: run it again to
# upgrade (new code, requirements, units; migrations; restart).
#
#   deploy/install.sh                  install or upgrade, start mutt.target
#   deploy/install.sh --no-start       install, do not (re)start anything
#   deploy/install.sh --uninstall      stop and remove units and code (keeps
#                                      /etc/mutt and /var/lib/mutt; --purge too)
#   deploy/install.sh --root DIR       write every file under DIR instead of /
#                                      and touch nothing else (no packages, user,
#                                      systemctl, migrations): to inspect or test
#   --no-pip                           do not install the requirements into the
#                                      virtualenv (with --root, for tests)
#   --skip-preflight                   do not check PostgreSQL, Redis and Vault
#   --no-firewall                      do not open the ingest and web ports
#
# Before anything is migrated or started, a pre-flight check connects to the
# PostgreSQL, Redis and (when VAULT_ADDR is set) Vault that /etc/mutt/mutt.env
# names, and stops with the one that cannot be reached. It runs with --root
# too, once DATABASE_URL (or the reference POSTGRES_* names) is set there.
# On a real install it then opens the ingest and web ports in firewalld or
# ufw (whichever is active), labels the files for SELinux when it is enabled
# (RHEL), and after the start waits for /health on the ingest port.
#
# Layout: code /opt/mutt/app, virtualenv /opt/mutt/venv, settings and secrets
# /etc/mutt/mutt.env (0640 root:mutt), state /var/lib/mutt, logs in the
# journal (journalctl -u 'mutt-*'; journald rotates them, no logrotate needed).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
root=""
uninstall=0
purge=0
start=1
pip=1
preflight=1
firewall=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    --no-start) start=0 ;;
    --no-pip) pip=0 ;;
    --skip-preflight) preflight=0 ;;
    --no-firewall) firewall=0 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "install: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

USER_NAME=mutt
OPT=$root/opt/mutt
ETC=$root/etc/mutt
STATE=$root/var/lib/mutt
UNITS=$root/etc/systemd/system
PYTHON=${MUTT_INSTALL_PYTHON:-python3.11}
UNIT_FILES=(mutt.target mutt-ingest.service mutt-web.service mutt-worker@.service mutt-beat.service mutt-flower.service)
INSTANCES=(mutt-worker@classify.service mutt-worker@forward.service mutt-worker@maintenance.service)

say() { echo "install: $*"; }
system() { [ -z "$root" ]; }  # true when installing for real

if system && [ "$(id -u)" != 0 ]; then
  echo "install: run as root (or with --root DIR to stage the files)" >&2
  exit 1
fi

if [ "$uninstall" = 1 ]; then
  if system && command -v systemctl >/dev/null; then
    systemctl disable --now mutt.target "${INSTANCES[@]}" mutt-ingest.service mutt-web.service \
      mutt-beat.service mutt-flower.service 2>/dev/null || true
  fi
  for unit in "${UNIT_FILES[@]}"; do rm -f "$UNITS/$unit"; done
  system && command -v systemctl >/dev/null && systemctl daemon-reload
  rm -rf "$OPT"
  if [ "$purge" = 1 ]; then
    rm -rf "$ETC" "$STATE"
    system && id "$USER_NAME" >/dev/null 2>&1 && userdel "$USER_NAME"
  fi
  say "removed (settings in $ETC and state in $STATE $([ "$purge" = 1 ] && echo "removed too" || echo "kept; --purge removes them"))"
  exit 0
fi

# 1. Packages: Python 3.11 with venv (PostgreSQL and Redis are usually on other hosts).
if system; then
  if ! command -v "$PYTHON" >/dev/null; then
    . /etc/os-release
    case " ${ID:-} ${ID_LIKE:-} " in
      *" debian "*|*" ubuntu "*) apt-get update -qq && apt-get install -y -qq python3.11 python3.11-venv ;;
      *" rhel "*|*" fedora "*|*" centos "*) dnf install -y python3.11 ;;
      *) echo "install: install $PYTHON yourself on ${PRETTY_NAME:-this system}" >&2; exit 1 ;;
    esac
  fi
  # 2. A system user that owns nothing but the state directory.
  id "$USER_NAME" >/dev/null 2>&1 || useradd --system --home-dir /var/lib/mutt --no-create-home \
    --shell /usr/sbin/nologin "$USER_NAME"
fi

# 3. Code: a fresh copy, swapped in whole (no stale modules from an older release).
mkdir -p "$OPT" "$ETC" "$STATE" "$UNITS"
rm -rf "$OPT/app.new"
mkdir -p "$OPT/app.new"
tar -C "$src" --exclude=./.venv --exclude=./.run --exclude=./.git --exclude='__pycache__' -cf - . | tar -C "$OPT/app.new" -xf -
rm -rf "$OPT/app.old"
[ -d "$OPT/app" ] && mv "$OPT/app" "$OPT/app.old"
mv "$OPT/app.new" "$OPT/app"
rm -rf "$OPT/app.old"
say "code in $OPT/app"

# 4. Virtualenv with the pinned requirements.
[ -x "$OPT/venv/bin/python" ] || "$PYTHON" -m venv "$OPT/venv"
if [ "$pip" = 1 ]; then
  "$OPT/venv/bin/pip" install -q --upgrade pip
  "$OPT/venv/bin/pip" install -q -r "$OPT/app/requirements.txt"
  say "requirements installed in $OPT/venv"
fi

# 5. Settings: created once from the example, never overwritten.
if [ ! -f "$ETC/mutt.env" ]; then
  secret=$("$OPT/venv/bin/python" -c "import secrets; print(secrets.token_urlsafe(48))")
  (umask 027; sed "s|^DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$secret|" "$src/deploy/systemd/mutt.env.example" > "$ETC/mutt.env")
  say "created $ETC/mutt.env: set DATABASE_URL, REDIS_URL, INGEST_API_KEYS, MOOG_WEBHOOK_URL there"
fi

# 5b. Pre-flight: the services mutt.env names must answer before anything is migrated or started.
# settings_endpoints prints "name host port" per service, from our names or the reference documents'.
settings_endpoints() {
  python3 - "$ETC/mutt.env" "$src" <<'PY'
import importlib.util
import sys
from urllib.parse import urlparse

# The alias table alone (stdlib only; the package would import Django and Celery).
spec = importlib.util.spec_from_file_location("env_aliases", sys.argv[2] + "/mutt_project/env_aliases.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
aliases_derive = module.aliases_derive

env = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line and not line.startswith("#") and "=" in line:
        key, value = line.split("=", 1)
        value = value.split(" #", 1)[0].strip().strip("'\"")
        if value:
            env[key.strip()] = value
derived, _warnings = aliases_derive(env)
env = {**derived, **env}
for name, key, port in (("PostgreSQL", "DATABASE_URL", 5432), ("Redis", "REDIS_URL", 6379), ("Vault", "VAULT_ADDR", 8200)):
    url = urlparse(env.get(key, ""))
    if url.hostname:
        print(name, url.hostname, url.port or (443 if url.scheme == "https" else port), key)
PY
}

reachable() { timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

if [ "$preflight" = 1 ] && grep -qE '^(DATABASE_URL|POSTGRES_HOST|DB_HOST)=..*' "$ETC/mutt.env"; then
  failed=0
  endpoints=$(settings_endpoints) || { echo "install: pre-flight: cannot read $ETC/mutt.env" >&2; exit 3; }
  while read -r name host port key; do
    if reachable "$host" "$port"; then
      say "pre-flight: $name reachable at $host:$port"
    else
      echo "install: pre-flight FAILED: $name is unreachable at $host:$port ($key in $ETC/mutt.env)." >&2
      echo "install:   check that it runs, that this host may connect (firewall, pg_hba.conf), then run again" >&2
      echo "install:   (--skip-preflight installs anyway)." >&2
      failed=1
    fi
  done <<< "$endpoints"
  [ "$failed" = 0 ] || exit 3
fi

# 6. Units.
for unit in "${UNIT_FILES[@]}"; do install -m 0644 "$src/deploy/systemd/$unit" "$UNITS/$unit"; done
say "units in $UNITS"

if ! system; then
  say "staged under $root (no user, systemctl or migrations with --root)"
  exit 0
fi

chown -R root:root "$OPT"
chown root:"$USER_NAME" "$ETC" "$ETC/mutt.env"
chmod 0750 "$ETC"
chmod 0640 "$ETC/mutt.env"
chown -R "$USER_NAME:$USER_NAME" "$STATE"
systemctl daemon-reload

# 7. Migrations first, then a restart of every process (docs/deployment.md: upgrades).
if grep -q '^DATABASE_URL=..*' "$ETC/mutt.env"; then
  (set -a; . "$ETC/mutt.env"; set +a; cd "$OPT/app" \
    && "$OPT/venv/bin/python" manage.py migrate --noinput \
    && "$OPT/venv/bin/python" manage.py collectstatic --noinput -v0)
  say "database migrated"
else
  say "DATABASE_URL not set in $ETC/mutt.env: no migrations, nothing started"
  start=0
fi

# 8. SELinux (RHEL): executables in the virtualenv, state and settings labelled so systemd may run them.
if command -v selinuxenabled >/dev/null && selinuxenabled; then
  if command -v semanage >/dev/null; then
    semanage fcontext -a -t bin_t "/opt/mutt/venv/bin(/.*)?" 2>/dev/null || semanage fcontext -m -t bin_t "/opt/mutt/venv/bin(/.*)?"
    semanage fcontext -a -t bin_t "/opt/mutt/app/scripts(/.*)?" 2>/dev/null || semanage fcontext -m -t bin_t "/opt/mutt/app/scripts(/.*)?"
    semanage fcontext -a -t var_lib_t "/var/lib/mutt(/.*)?" 2>/dev/null || semanage fcontext -m -t var_lib_t "/var/lib/mutt(/.*)?"
    semanage fcontext -a -t etc_t "/etc/mutt(/.*)?" 2>/dev/null || semanage fcontext -m -t etc_t "/etc/mutt(/.*)?"
  else
    say "SELinux is enabled but semanage is missing (dnf install policycoreutils-python-utils): labels not persisted"
  fi
  restorecon -R /opt/mutt /var/lib/mutt /etc/mutt
  say "SELinux contexts set on /opt/mutt, /var/lib/mutt, /etc/mutt"
fi

# 9. Firewall: the ingest and web ports, in whichever of firewalld and ufw is active.
ingest_port=$(sed -n 's/.*MUTT_INGEST_PORT=\([0-9]*\).*/\1/p' "$UNITS/mutt-ingest.service" "$ETC/mutt.env" | tail -1)
web_port=$(sed -n 's/.*MUTT_WEB_PORT=\([0-9]*\).*/\1/p' "$UNITS/mutt-web.service" "$ETC/mutt.env" | tail -1)
ingest_port=${ingest_port:-8080}
web_port=${web_port:-8090}
if [ "$firewall" = 1 ]; then
  if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
    for port in "$ingest_port" "$web_port"; do firewall-cmd --permanent --add-port="$port/tcp" >/dev/null; done
    firewall-cmd --reload >/dev/null
    say "firewalld: opened $ingest_port/tcp (ingest) and $web_port/tcp (web)"
  elif command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q "Status: active"; then
    ufw allow "$ingest_port/tcp" comment "MUTT ingest" >/dev/null
    ufw allow "$web_port/tcp" comment "MUTT web" >/dev/null
    say "ufw: opened $ingest_port/tcp (ingest) and $web_port/tcp (web)"
  else
    say "no active firewalld or ufw: no port opened"
  fi
fi

systemctl enable mutt.target "${INSTANCES[@]}" >/dev/null
if [ "$start" = 1 ]; then
  systemctl restart mutt.target
  say "started: systemctl status 'mutt-*'"
  # 10. Health check: ingest answers /health (PostgreSQL and Redis reachable from it) within a minute.
  for _ in $(seq 1 60); do
    if python3 -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:$ingest_port/health', timeout=2).status != 200)" 2>/dev/null; then
      say "health check passed: http://127.0.0.1:$ingest_port/health"
      exit 0
    fi
    sleep 1
  done
  echo "install: health check FAILED: http://127.0.0.1:$ingest_port/health did not answer 200 within 60 s" >&2
  journalctl -u mutt-ingest.service -n 30 --no-pager >&2 || true
  exit 4
fi
