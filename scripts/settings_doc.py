"""Write docs/settings.md: every environment variable MUTT reads, from the code itself.

    .venv/bin/python scripts/settings_doc.py          # rewrite docs/settings.md
    .venv/bin/python scripts/settings_doc.py --check  # exit 1 when it is out of date

Python: every ``env_*`` / ``secret*`` call and ``os.environ`` / ``os.getenv``
read with a literal name in the project's modules (tests, benches and chaos
tooling excluded), with its type, default and the comment next to it. Shell:
every ``${NAME:-default}`` in scripts/ and deploy/install.sh. Then the
reference documents' names accepted as aliases (mutt_project.env_aliases).
tests/project/test_settings_doc.py fails when the file is not current.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "settings.md"
PY_DIRS = ("mutt_project", "alerts", "ingest", "forwarding", "remediation")
SHELL = sorted([*(ROOT / "scripts").glob("*.sh"), ROOT / "deploy" / "install.sh"])
READERS = {
    "env_str": "text", "env_bool": "boolean", "env_int": "integer", "env_float": "number", "env_list": "list",
    "env_secret": "secret", "env_secret_list": "secret list", "secret": "secret", "secret_list": "secret list",
}  # fmt: skip
_SHELL_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]+):-([^}]*)\}")


@dataclass
class Var:
    name: str
    kind: str
    default: str
    where: str
    note: str


def _comment(lines: list[str], lineno: int) -> str:
    """The trailing comment of the line, else the comment lines right above it."""
    line = lines[lineno - 1]
    if "  # " in line:
        return line.split("  # ", 1)[1].strip()
    above = []
    n = lineno - 2
    while n >= 0 and lines[n].lstrip().startswith("#") and not lines[n].lstrip().startswith("# ==="):
        above.insert(0, lines[n].strip().lstrip("#").strip())
        n -= 1
    return " ".join(a for a in above if not a.startswith("----") and not a.startswith("---"))


def _python_vars() -> dict[str, Var]:
    found: dict[str, Var] = {}
    files = sorted(p for d in PY_DIRS for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts)
    for path in files:
        source = path.read_text()
        lines = source.splitlines()
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.isupper()):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in READERS:
                kind = READERS[name]
            elif name in ("get", "getenv") and "environ" in ast.unparse(func) or name == "getenv":
                kind = "text"
            else:
                continue
            default = ast.get_source_segment(source, node.args[1]) if len(node.args) > 1 else ""
            if name in ("env_bool",) and not default:
                default = "False"
            var = found.get(first.value)
            if var is None or (not var.note and _comment(lines, node.lineno)):
                found[first.value] = Var(first.value, kind, default or "", rel, _comment(lines, node.lineno))
    return found


def _shell_vars(known: dict[str, Var]) -> dict[str, Var]:
    found: dict[str, Var] = {}
    for path in SHELL:
        for name, default in _SHELL_VAR.findall(path.read_text()):
            if name not in known and name not in found:
                found[name] = Var(name, "text", default, str(path.relative_to(ROOT)), "")
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    from mutt_project.env_aliases import ALIASES, POSTGRES_PARTS, REDIS_PARTS, UNUSED

    py = _python_vars()
    sh = _shell_vars(py)
    out = [
        "# Settings",
        "",
        "Every environment variable MUTT reads. Generated from the code by",
        "`scripts/settings_doc.py` (do not edit by hand; `tests/project/test_settings_doc.py` checks it is current).",
        "A *secret* comes from Vault when `VAULT_ADDR` is set, else from `NAME` or the file named by `NAME_FILE`.",
        "",
        "## Application (Python)",
        "",
        "| variable | type | default | read in | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for var in sorted(py.values(), key=lambda v: v.name):
        default = f"`{_cell(var.default)}`" if var.default else ""
        out.append(f"| `{var.name}` | {var.kind} | {default} | {var.where} | {_cell(var.note)} |")
    out += [
        "",
        "## Process scripts (shell)",
        "",
        "| variable | default | read in |",
        "| --- | --- | --- |",
    ]
    for var in sorted(sh.values(), key=lambda v: v.name):
        out.append(f"| `{var.name}` | `{_cell(var.default)}` | {var.where} |")
    out += [
        "",
        "## Reference-document names (v2.3, v2.5) accepted as aliases",
        "",
        "Used only when our variable is not set; each one in use is logged at start-up with the name to use instead.",
        "",
        "| reference name | use instead |",
        "| --- | --- |",
    ]
    for old, (ours, _convert) in sorted(ALIASES.items()):
        out.append(f"| `{old}` | `{ours}` |")
    for ours, parts in (("DATABASE_URL", POSTGRES_PARTS), ("REDIS_URL", REDIS_PARTS)):
        names = ", ".join(f"`{n}`" for names in parts.values() for n in names)
        out.append(f"| {names} | `{ours}` (built from them) |")
    out.append("| `INGESTOR_PORT`, `SERVER_PORT_INGESTOR` | `MUTT_INGEST_PORT` (scripts/serve.sh) |")
    out.append("| `WEB_UI_PORT`, `SERVER_PORT_WEBUI` | `MUTT_WEB_PORT` (scripts/serve.sh) |")
    out += ["", "No effect here (logged as such): " + ", ".join(f"`{n}`" for n in UNUSED) + ".", ""]
    return "\n".join(out)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/settings.md is out of date: run .venv/bin/python scripts/settings_doc.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
