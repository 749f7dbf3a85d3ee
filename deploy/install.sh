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
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    --no-start) start=0 ;;
    --no-pip) pip=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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
UNIT_FILES=(mutt.target mutt-ingest.service mutt-receivers.service mutt-web.service mutt-worker@.service mutt-beat.service mutt-flower.service)
INSTANCES=(mutt-worker@classify.service mutt-worker@forward.service mutt-worker@maintenance.service)

say() { echo "install: $*"; }
system() { [ -z "$root" ]; }  # true when installing for real

if system && [ "$(id -u)" != 0 ]; then
  echo "install: run as root (or with --root DIR to stage the files)" >&2
  exit 1
fi

if [ "$uninstall" = 1 ]; then
  if system && command -v systemctl >/dev/null; then
    systemctl disable --now mutt.target "${INSTANCES[@]}" mutt-ingest.service mutt-receivers.service mutt-web.service \
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

systemctl enable mutt.target "${INSTANCES[@]}" >/dev/null
if [ "$start" = 1 ]; then
  systemctl restart mutt.target
  say "started: systemctl status 'mutt-*'"
fi
