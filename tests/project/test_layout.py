"""The layout rules a reviewer checks by hand, checked on every run (docs/architecture.md, "Apps")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = [
    p
    for p in ROOT.rglob("*.py")
    if not any(part in (".venv", ".run", "node_modules") for part in p.relative_to(ROOT).parts)
]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_module_of_the_pipeline_apps_is_over_400_lines():
    long = {
        _rel(p): n
        for p in SOURCES
        if _rel(p).split("/")[0] in ("alerts", "forwarding", "remediation")
        and (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_redis_key_names_live_in_redis_keys_and_wake_flags_only_in_the_wake_up_module():
    literal = re.compile(r"""["']mutt:""")
    assert [_rel(p) for p in SOURCES if literal.search(p.read_text()) and p.name != "redis_keys.py"] == []
    wake_flags = [_rel(p) for p in SOURCES if "redis_keys.WAKE_" in p.read_text() and p != Path(__file__)]
    assert wake_flags == ["alerts/wakeup.py"]


def test_code_and_docs_cite_nothing_outside_the_repository():
    texts = SOURCES + list((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
    outside = re.compile(r"DESIGN\.md|/work/shared")
    assert [_rel(p) for p in texts if p != Path(__file__) and outside.search(p.read_text())] == []


def test_alerts_imports_no_other_app_at_run_time():
    # Type-only imports (indented under ``if TYPE_CHECKING:``) are allowed: the outbox contract.
    top_level = re.compile(r"^(from|import) (ingest|forwarding|remediation)\b", re.MULTILINE)
    assert [_rel(p) for p in SOURCES if _rel(p).startswith("alerts/") and top_level.search(p.read_text())] == []


def test_no_test_hook_in_production_code():
    # chaos/ (issue 13) is a test harness: it starts workers with the test crash hook on purpose.
    hooks = [_rel(p) for p in SOURCES if "MUTT_TEST_" in p.read_text() and not _rel(p).startswith(("tests/", "chaos/"))]
    assert hooks == []
