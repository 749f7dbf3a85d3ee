"""docs/settings.md is generated from the code (scripts/settings_doc.py) and must be current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_settings_doc_is_current():
    result = subprocess.run(
        [sys.executable, "scripts/settings_doc.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_variable_read_in_settings_is_in_the_table():
    source = (ROOT / "mutt_project" / "settings.py").read_text()
    names = set(re.findall(r'\b(?:env_\w+|secret(?:_list)?)\("([A-Z][A-Z0-9_]+)"', source))
    doc = (ROOT / "docs" / "settings.md").read_text()
    assert len(names) > 100
    assert {n for n in names if f"| `{n}` |" not in doc} == set()
