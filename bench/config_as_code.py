"""Configuration as code at scale: 10,000 rules exported and applied, 100,000 events replayed, a 1M-row table.

Needs a running PostgreSQL and Redis (``source <data>/services.env``). Uses two
databases of its own (``bench.database``): A is filled with 10,000 rules (and
hosts, teams, a lookup table) and 100,000 stored events; its export is applied
to B after B's configuration is emptied; then

- export of A (``manage.py config export``'s function) and apply to B are timed
  (targets: export ≤ 2 s, apply ≤ 10 s), B's export must be byte-identical to A's;
- the 100,000 events are decided by A's and B's compiled rule sets: every
  decision (rule key, handling, team, dev) must be identical;
- with ``--lookup-rows N`` (default 1,000,000) a CSV of N rows is loaded by COPY
  (target ≤ 30 s) and ``bench/classify.py`` is run without and with the table
  (target: ≤ 10 % slower; medians as that bench prints them).

Run: ``.venv/bin/python bench/config_as_code.py [--rules 10000] [--events 100000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _empty_config() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE alert_rules, development_hosts, device_teams, maintenance_windows, team_contacts, "
            "lookup_tables, lookup_rows, runtime_settings, config_versions CASCADE"
        )


def phase_seed(rules: int, events: int) -> None:
    """A: ``rules`` rules of every kind, hosts, teams, a small table, and ``events`` stored events."""
    _django()
    import random

    from django.db import connection

    from alerts.models import AlertRule, DevelopmentHost, DeviceTeam
    from bench.rule_engine import WORDS

    rng = random.Random(21)
    _empty_config()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
    objs = []
    for i in range(rules):
        kind = i % 10
        common = {
            "key": f"rule-{i:05d}",
            "priority": rng.randint(1, 1000),
            "prod_handling": rng.choice(["Page_and_ticket", "Ticket_only", "Log_only", "Email_only"]),
            "dev_handling": "Log_only",
            "team_assignment": rng.choice(["NETO", "DBA", "WEB", "CORE"]),
            "description": f"bench rule {i}",
        }
        if kind < 6:
            objs.append(AlertRule(match_type="contains", match_string=f"{rng.choice(WORDS)} {rng.choice(WORDS)}-{i}", **common))  # fmt: skip
        elif kind < 9:
            objs.append(AlertRule(match_type="regex", match_string=f"{rng.choice(WORDS)}[0-9]+ .*{i}x", **common))
        else:
            objs.append(AlertRule(match_type="oid_prefix", trap_oid=f"1.3.6.1.4.1.{i}", **common))
    AlertRule.objects.bulk_create(objs, batch_size=2000)
    DevelopmentHost.objects.bulk_create([DevelopmentHost(hostname=f"lab-{i}") for i in range(200)])
    DeviceTeam.objects.bulk_create([DeviceTeam(hostname=f"host-{i}", team_assignment="CORE") for i in range(0, 500, 7)])
    texts = [o.match_string for o in objs if o.match_type == "contains"]
    with connection.cursor() as cursor:
        rows = []
        if not events:
            print(json.dumps({"rules": rules, "events": 0}))
            return
        for i in range(events):
            message = " ".join(rng.choice(WORDS) for _ in range(12))
            if i % 5 == 0:
                message += " " + rng.choice(texts)
            host = f"lab-{i % 300}" if i % 11 == 0 else f"host-{i % 500}"
            rows.append(f"{host}\t{message}\t{rng.randint(0, 7)}")
        cursor.execute("CREATE TEMP TABLE seed (hostname text, message text, sev smallint)")
        import io

        cursor.cursor.copy_expert("COPY seed FROM STDIN", io.StringIO("\n".join(rows) + "\n"))
        cursor.execute(
            "INSERT INTO event_audit_log (received_at, event_timestamp, processed_at, hostname, message, source, "
            "syslog_severity, team_assignment, handling, is_dev, correlation_id, raw_payload, forward_status) "
            "SELECT now() - interval '1 hour', now(), now(), hostname, message, 'syslog', sev, 'NETO', 'Log_only', "
            "false, gen_random_uuid(), '{}', 'none' FROM seed"
        )
    print(json.dumps({"rules": rules, "events": events}))


def phase_export(path: str, runs: int) -> None:
    _django()
    from alerts.services.config_export import config_export

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        text = config_export()
        times.append(time.perf_counter() - start)
    Path(path).write_text(text, encoding="utf-8")
    print(json.dumps({"export_s": times, "bytes": len(text.encode())}))


def phase_apply(path: str, out: str, runs: int) -> None:
    """B: emptied, then the file applied (timed), ``runs`` times; then exported to ``out``."""
    _django()
    from alerts.services.config import ConfigChange
    from alerts.services.config_apply import config_apply
    from alerts.services.config_export import config_export

    text = Path(path).read_text(encoding="utf-8")
    times = []
    for _ in range(runs):
        _empty_config()
        start = time.perf_counter()
        config_apply(text, change=ConfigChange(user="bench", reason="bench"))
        times.append(time.perf_counter() - start)
    Path(out).write_text(config_export(), encoding="utf-8")
    print(json.dumps({"apply_s": times}))


def phase_decide(events_from: str, out: str) -> None:
    """Decide the stored events of database ``events_from`` with this database's rules; write the decisions."""
    _django()
    import psycopg2

    from alerts.models import AlertRule
    from alerts.rule_cache import _load_ruleset

    ruleset = _load_ruleset()
    keys = dict(AlertRule.objects.values_list("id", "key"))
    raw = psycopg2.connect(events_from)
    start = time.perf_counter()
    with raw.cursor() as cursor, open(out, "w") as sink:
        cursor.execute("SELECT hostname, message, trap_oid, syslog_severity FROM event_audit_log ORDER BY id")
        for hostname, message, trap_oid, severity in cursor:
            d = ruleset.decide({"hostname": hostname, "message": message, "trap_oid": trap_oid, "syslog_severity": severity})  # fmt: skip
            sink.write(f"{keys.get(d.rule_id)}\t{d.handling}\t{d.team}\t{d.is_dev}\n")
    raw.close()
    print(json.dumps({"decide_s": time.perf_counter() - start}))


def phase_lookup(rows: int) -> None:
    _django()
    from alerts.services.config import ConfigChange
    from alerts.services.lookup_tables import lookup_table_load_csv

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("hostname,site,criticality,owner\n")
        for i in range(rows):
            f.write(f"host-{i},site-{i % 40},{'high' if i % 3 == 0 else 'low'},team-{i % 9}\n")
    start = time.perf_counter()
    with open(f.name, newline="") as stream:
        result = lookup_table_load_csv(
            name="inventory", stream=stream, change=ConfigChange(user="bench", reason="bench")
        )
    elapsed = time.perf_counter() - start
    os.unlink(f.name)
    print(json.dumps({"lookup_load_s": elapsed, "rows": result["rows"]}))


def _child(phase: list[str], url: str) -> dict:
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, __file__, "--phase", *phase], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _classify(url: str, runs: int) -> float:
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "bench/classify.py", "--runs", str(runs)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    print("   ", done.stdout.strip().splitlines()[-1])
    return float(re.search(r"([\d,]+) events/s median", done.stdout).group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", nargs="+")
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--lookup-rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.phase:
        name, *rest = args.phase
        {"seed": lambda: phase_seed(int(rest[0]), int(rest[1])), "export": lambda: phase_export(rest[0], int(rest[1])),
         "apply": lambda: phase_apply(rest[0], rest[1], int(rest[2])), "decide": lambda: phase_decide(rest[0], rest[1]),
         "lookup": lambda: phase_lookup(int(rest[0]))}[name]()  # fmt: skip
        return

    from bench.database import bench_database

    a, b = bench_database("mutt_bench_config_a"), bench_database("mutt_bench_config_b")
    work = Path(tempfile.mkdtemp(prefix="mutt-config-bench-"))
    print(f"seeding A: {args.rules} rules, {args.events} stored events …")
    _child(["seed", str(args.rules), str(args.events)], a)
    exported = _child(["export", str(work / "a.yaml"), str(args.runs)], a)
    applied = _child(["apply", str(work / "a.yaml"), str(work / "b.yaml"), str(args.runs)], b)
    identical = (work / "a.yaml").read_bytes() == (work / "b.yaml").read_bytes()
    print(f"export of {args.rules} rules ({exported['bytes']:,} bytes): median {statistics.median(exported['export_s']):.2f} s "
          f"of {args.runs} (target ≤ 2 s)")  # fmt: skip
    print(f"apply to an empty database: median {statistics.median(applied['apply_s']):.2f} s of {args.runs} (target ≤ 10 s)")  # fmt: skip
    print(f"export of B byte-identical to A's: {identical}")
    _child(["decide", a, str(work / "a.tsv")], a)
    _child(["decide", a, str(work / "b.tsv")], b)
    same = (work / "a.tsv").read_bytes() == (work / "b.tsv").read_bytes()
    lines = (work / "a.tsv").read_text().count("\n")
    print(f"replay of {lines:,} stored events through A and B: identical decisions: {same}")
    if args.lookup_rows:
        _child(["seed", "0", "0"], b)  # B: no rules; bench/classify.py brings its own 100
        print("bench/classify.py without a lookup table:")
        without = _classify(b, args.runs)
        loaded = _child(["lookup", str(args.lookup_rows)], b)
        print(f"lookup table of {loaded['rows']:,} rows loaded (CSV, COPY) in {loaded['lookup_load_s']:.1f} s (target ≤ 30 s)")  # fmt: skip
        print(f"bench/classify.py with the {loaded['rows']:,}-row table (every event enriched):")
        with_table = _classify(b, args.runs)
        print(f"classify slowed by {100 * (without - with_table) / without:.1f} % (target ≤ 10 %)")
        _child(["seed", "0", "0"], b)
    if not (identical and same):
        sys.exit("round trip NOT identical")


if __name__ == "__main__":
    main()
