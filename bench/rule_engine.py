"""Rule engine alone: decisions per second for 100 and 1,000 rules, and the adversarial regex.

Pure: no database, no Redis. Run: ``.venv/bin/python bench/rule_engine.py [--runs N]``.
Rules are 60 % contains, 30 % regex, 10 % oid_prefix; messages are ~120 bytes,
a realistic mix where most events match nothing or a low-priority rule.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.rule_engine import RuleSet, RuleSpec  # noqa: E402

WORDS = [
    "interface",
    "link",
    "bgp",
    "ospf",
    "neighbor",
    "down",
    "up",
    "changed",
    "state",
    "power",
    "fan",
    "temperature",
    "threshold",
    "exceeded",
    "session",
    "authentication",
    "failed",
    "login",
    "user",
    "disk",
    "memory",
    "cpu",
    "utilization",
    "error",
    "warning",
    "critical",
    "port",
    "vlan",
    "duplex",
]


def make_rules(count: int, rng: random.Random) -> list[RuleSpec]:
    rules = []
    for i in range(count):
        kind = i % 10
        common = {
            "id": i + 1,
            "priority": rng.randint(1, 1000),
            "prod_handling": "Page_and_ticket",
            "dev_handling": "Email_only",
            "team_assignment": "NETO",
            "syslog_severity": rng.choice([None, None, None, 3, 5]),
        }
        if kind < 6:
            text = f"{rng.choice(WORDS)} {rng.choice(WORDS)}-{i}"
            rules.append(RuleSpec(match_type="contains", match_string=text, **common))
        elif kind < 9:
            rules.append(
                RuleSpec(
                    match_type="regex", match_string=f"{rng.choice(WORDS)}[0-9]+ .*{i}x{rng.choice(WORDS)}", **common
                )
            )
        else:
            rules.append(RuleSpec(match_type="oid_prefix", trap_oid=f"1.3.6.1.4.1.{i}", **common))
    return rules


def make_events(rules: list[RuleSpec], count: int, rng: random.Random) -> list[dict]:
    contains = [r.match_string for r in rules if r.match_type == "contains"]
    events = []
    for i in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(18))
        if i % 5 == 0:  # a fifth of the events hit a contains rule
            words = f"{words[:60]} {rng.choice(contains)} {words[60:]}"
        message = (f"%LINK-3-UPDOWN: {words}")[:120].ljust(120, ".")
        event = {"hostname": f"host-{i % 50}", "message": message, "syslog_severity": rng.randint(0, 7)}
        if i % 10 == 0:
            event["trap_oid"] = f"1.3.6.1.4.1.{rng.randint(1, 1200)}.1.2"
        events.append(event)
    return events


def decisions_per_second(ruleset: RuleSet, events: list[dict]) -> float:
    decide = ruleset.decide
    start = time.perf_counter()
    for event in events:
        decide(event)
    return len(events) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(42)
    for count in (100, 1000):
        rules = make_rules(count, rng)
        ruleset = RuleSet.compile(rules, dev_hosts=["host-1", "host-2"], teams={"host-3": "SRV"})
        events = make_events(rules, args.events, rng)
        sample = events[:2000]
        assert all(ruleset.decide(e) == ruleset.decide_reference(e) for e in sample), "engine disagrees with spec"
        matched = sum(ruleset.decide(e).matched for e in sample) / len(sample)
        runs = [decisions_per_second(ruleset, events) for _ in range(args.runs)]
        print(
            f"{count:>5} rules: {statistics.median(runs):>10,.0f} decisions/s median of {args.runs} "
            f"(min {min(runs):,.0f}, max {max(runs):,.0f}; {matched:.0%} of events matched)"
        )

    adversarial = RuleSet.compile(
        [
            RuleSpec(
                id=1,
                match_type="regex",
                match_string="(a+)+$",
                priority=1,
                prod_handling="Page_only",
                dev_handling="Log_only",
                team_assignment="NETO",
            )
        ]
    )
    event = {"hostname": "h", "message": "a" * 50_000 + "!"}
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        decision = adversarial.decide(event)
        times.append(time.perf_counter() - start)
    print(
        f"adversarial (a+)+$ on 50 KB: {statistics.median(times) * 1000:.2f} ms median "
        f"(max {max(times) * 1000:.2f} ms), matched={decision.matched}"
    )


if __name__ == "__main__":
    main()
