"""``manage.py schema_doc`` writes docs/schema.md, the column-level reference, from the models.

``--check`` compares instead of writing and fails when the file is out of date
(tests/project/test_schema_doc.py runs it), so the reference follows every migration.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models

MUTT_APPS = ("alerts", "ingest", "forwarding", "remediation")
TARGET = Path(settings.BASE_DIR) / "docs" / "schema.md"

HEADER = """# Database schema (generated)

Generated from the models by `python manage.py schema_doc`; do not edit by hand
(`tests/project/test_schema_doc.py` fails when this file is out of date). One
section per table: its model, what it holds, and each column's PostgreSQL type,
whether it may be NULL, its default and its meaning. Tables marked *unmanaged*
are created by migrations in SQL (the event audit log is partitioned by month,
see docs/architecture.md).
"""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _default(field: models.Field) -> str:
    if not field.has_default():
        return ""
    default = field.default
    if callable(default):
        return f"`{getattr(default, '__name__', 'callable')}()`"
    return f"`{default!r}`"


def _meaning(field: models.Field) -> str:
    parts = []
    if field.help_text:
        parts.append(str(field.help_text))
    elif field.verbose_name and field.verbose_name != field.name.replace("_", " "):
        parts.append(str(field.verbose_name))
    if field.choices:
        parts.append("one of " + ", ".join(f"`{value}`" for value, _label in field.flatchoices))
    if field.is_relation and field.related_model is not None:
        parts.append(f"→ `{field.related_model._meta.db_table}`")
    if field.primary_key:
        parts.append("primary key")
    elif field.unique:
        parts.append("unique")
    return "; ".join(parts)


def _model_section(model: type[models.Model]) -> str:
    meta = model._meta
    doc = inspect.getdoc(model) or ""
    summary = doc.split("\n\n")[0].replace("\n", " ") if not doc.startswith(model.__name__ + "(") else ""
    kind = "" if meta.managed else " (unmanaged: created by a migration in SQL)"
    lines = [f"## `{meta.db_table}`", "", f"Model `{meta.app_label}.{model.__name__}`{kind}. {summary}".rstrip(), ""]
    lines += ["| column | type | null | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for field in meta.concrete_fields:
        db_type = field.db_type(connection) or ""
        lines.append(
            f"| `{field.column}` | {_cell(db_type)} | {'yes' if field.null else 'no'} | {_cell(_default(field))} | "
            f"{_cell(_meaning(field))} |"
        )
    return "\n".join(lines) + "\n"


def schema_markdown() -> str:
    chosen = [m for m in apps.get_models() if m._meta.app_label in MUTT_APPS and not m._meta.proxy]
    sections = [_model_section(m) for m in sorted(chosen, key=lambda m: m._meta.db_table)]
    return HEADER + "\n" + "\n".join(sections)


class Command(BaseCommand):
    help = "Write docs/schema.md (column-level schema reference) from the models; --check compares."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="fail when docs/schema.md is out of date")

    def handle(self, *args, check: bool, **options) -> None:
        text = schema_markdown()
        if check:
            if not TARGET.exists() or TARGET.read_text() != text:
                raise CommandError("docs/schema.md is out of date: run `python manage.py schema_doc`")
            self.stdout.write("docs/schema.md is current")
            return
        TARGET.write_text(text)
        self.stdout.write(f"wrote {TARGET}")
