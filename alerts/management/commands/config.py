"""``manage.py config export|validate|plan|apply|versions|diff|rollback|schema|load-csv``: configuration as code.

Exit status: 0 done, 1 the file is refused (each error as ``FILE:LINE:COLUMN: path: message``),
2 a conflict (another apply ran first: plan again). See docs/config-as-code.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from alerts.config_file import SECTION_ORDER, ConfigFileInvalid, diff_text
from alerts.services.config import ConfigChange


class Command(BaseCommand):
    help = "Configuration as code: export, validate, plan, apply, versions, diff, rollback (docs/config-as-code.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Print the live configuration as YAML.")
        export.add_argument("--only", default="", help=f"Comma-separated sections: {','.join(SECTION_ORDER)}")
        export.add_argument("--output", "-o", default="-")
        sub.add_parser("validate", help="Check a file (schema and model validation).").add_argument("file")
        plan = sub.add_parser("plan", help="Diff a file against the live configuration and backtest the change.")
        plan.add_argument("file")
        plan.add_argument("--days", type=float, default=7, help="Backtest window (0: no backtest)")
        plan.add_argument("--prune", action="store_true")
        plan.add_argument("--json", action="store_true")
        apply = sub.add_parser("apply", help="Apply a file in one transaction (one version, everything audited).")
        apply.add_argument("file")
        apply.add_argument("--reason", required=True)
        apply.add_argument("--prune", action="store_true", help="Delete what the file's sections do not hold")
        apply.add_argument("--base-version", type=int, default=None, help="Refuse unless this is the latest version")
        apply.add_argument("--user", default="cli")
        sub.add_parser("versions", help="List the numbered versions.")
        diff = sub.add_parser("diff", help="Diff two versions.")
        diff.add_argument("a", type=int)
        diff.add_argument("b", type=int)
        rollback = sub.add_parser("rollback", help="Apply an earlier version again (a new version).")
        rollback.add_argument("version", type=int)
        rollback.add_argument("--reason", required=True)
        rollback.add_argument("--user", default="cli")
        sub.add_parser("schema", help="Print the file's JSON Schema.")
        load = sub.add_parser("load-csv", help="Create or replace a lookup table from a CSV file (header first).")
        load.add_argument("name")
        load.add_argument("file")
        load.add_argument("--key-column", default=None)
        load.add_argument("--reason", default="csv load")
        load.add_argument("--user", default="cli")

    def _read(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None

    def _refused(self, exc: ConfigFileInvalid, path: str):
        for error in exc.errors:
            self.stderr.write(f"{path}:{error}")
        raise CommandError(f"{path}: refused, {len(exc.errors)} error(s)", returncode=1)

    def handle(self, *args, action, **opts):
        from alerts.models import ConfigVersion
        from alerts.services import config_apply as svc
        from alerts.services.config_plan import config_plan

        if action == "export":
            from alerts.services.config_export import config_export

            only = [s for s in opts["only"].split(",") if s] or None
            unknown = sorted(set(only or []) - set(SECTION_ORDER))
            if unknown:
                raise CommandError(f"unknown section(s): {', '.join(unknown)}")
            text = config_export(only)
            if opts["output"] == "-":
                self.stdout.write(text, ending="")
            else:
                Path(opts["output"]).write_text(text, encoding="utf-8")
            return
        if action == "schema":
            self.stdout.write(json.dumps(svc.schema(), indent=2, sort_keys=True))
            return
        if action == "versions":
            for v in ConfigVersion.objects.order_by("-number")[:100]:
                self.stdout.write(f"{v.number}\t{v.created_at:%Y-%m-%d %H:%M:%S}\t{v.created_by}\t{v.source}\t"
                                  f"{v.content_hash[:12]}\t{v.reason}")  # fmt: skip
            return
        if action == "diff":
            a, b = (ConfigVersion.objects.filter(number=n).first() for n in (opts["a"], opts["b"]))
            if a is None or b is None:
                raise CommandError("no such version")
            self.stdout.write("\n".join(diff_text(svc.config_versions_diff(a, b))) or "(no difference)")
            return
        if action == "load-csv":
            from alerts.services.lookup_tables import LookupTableInvalid, lookup_table_load_csv

            change = ConfigChange(user=opts["user"], reason=opts["reason"])
            try:
                with open(opts["file"], encoding="utf-8", newline="") as stream:
                    result = lookup_table_load_csv(
                        name=opts["name"], stream=stream, change=change, key_column=opts["key_column"]
                    )
            except (OSError, LookupTableInvalid) as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(json.dumps(result))
            return
        if action == "rollback":
            version = ConfigVersion.objects.filter(number=opts["version"]).first()
            if version is None:
                raise CommandError(f"no version {opts['version']}")
            try:
                result = svc.config_rollback(version, change=ConfigChange(user=opts["user"], reason=opts["reason"]))
            except svc.ConfigConflict as exc:
                raise CommandError(str(exc), returncode=2) from None
            self.stdout.write(f"rolled back to version {version.number}: now version {result['version']}")
            return
        path = opts["file"]
        text = self._read(path)
        try:
            if action == "validate":
                svc.config_validate(text)
                self.stdout.write(f"{path}: valid")
            elif action == "plan":
                plan = config_plan(text, days=opts["days"], prune=opts["prune"])
                if opts["json"]:
                    self.stdout.write(json.dumps(plan.as_dict(), indent=2, default=str))
                else:
                    self._print_plan(plan)
            elif action == "apply":
                change = ConfigChange(user=opts["user"], reason=opts["reason"])
                result = svc.config_apply(text, change=change, prune=opts["prune"], base_version=opts["base_version"])
                self.stdout.write("\n".join(diff_text(result["changes"])) or "(no change)")
                self.stdout.write(f"applied: version {result['version']}")
        except ConfigFileInvalid as exc:
            self._refused(exc, path)
        except svc.ConfigConflict as exc:
            raise CommandError(str(exc), returncode=2) from None

    def _print_plan(self, plan) -> None:
        self.stdout.write(f"Live configuration: version {plan.base_version}")
        self.stdout.write("\n".join(diff_text(plan.changes)) or "(no change)")
        result = plan.backtest
        if result is None:
            return
        self.stdout.write(
            f"\nBacktest {result['window']['start']} .. {result['window']['end']}: "
            f"{result['scanned']} events, {result['changed']} decisions change"
        )
        for row in result["changes"]:
            before, after = row["from"], row["to"]
            self.stdout.write(
                f"  {row['count']:>8}  {before['handling']}/{before['team']} → {after['handling']}/{after['team']}"
            )
            for sample in row["samples"][:3]:
                self.stdout.write(f"            e.g. {sample['hostname']}: {sample['message'][:100]}")
