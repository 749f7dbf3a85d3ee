"""Lookup tables for enrichment: loaded from CSV (upload, API) or the configuration file, rows by COPY."""

from __future__ import annotations

import csv
import io

import orjson
from django.db import connection, transaction

from alerts.choices import AuditOperation
from alerts.models import LookupTable
from alerts.rule_cache import rules_version_bump_on_commit
from alerts.services.config import ConfigChange, config_audit_write_many, snapshot

_COPY_SQL = "COPY lookup_rows (table_id, key, values) FROM STDIN"
_COPY_CHUNK = 200_000


class LookupTableInvalid(ValueError):
    """A CSV or table definition that cannot be loaded (nothing is stored)."""


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def lookup_rows_replace(table: LookupTable, rows) -> int:
    """Replace every row of ``table`` with ``rows`` ((key, [values…]) pairs) by COPY; returns the count."""
    count = 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM lookup_rows WHERE table_id = %s", [table.pk])
        raw = cursor.cursor  # psycopg2's cursor: COPY FROM STDIN
        buffer = io.StringIO()
        for key, values in rows:
            buffer.write(f"{table.pk}\t{_copy_text(key)}\t{_copy_text(orjson.dumps(values).decode())}\n")
            count += 1
            if count % _COPY_CHUNK == 0:
                buffer.seek(0)
                raw.copy_expert(_COPY_SQL, buffer)
                buffer = io.StringIO()
        buffer.seek(0)
        raw.copy_expert(_COPY_SQL, buffer)
    rules_version_bump_on_commit()  # the rule cache compiles the tables
    return count


def _table_audit(table: LookupTable, rows: int) -> dict:
    return {**snapshot(table), "rows": rows}


def lookup_tables_write(objs: list[dict], part: dict, change: ConfigChange) -> None:
    """Create, update (rows replaced) and, when pruned, delete tables as the configuration file says."""
    by_name = {o["name"]: o for o in objs}
    audit = []
    for name in [*part["added"], *part["changed"]]:
        obj = by_name[name]
        table = LookupTable.objects.filter(name=name).first()
        old = _table_audit(table, table.rows.count()) if table else None
        table = table or LookupTable(name=name)
        table.key_column, table.value_columns, table.description = (
            obj["key_column"],
            obj["value_columns"],
            obj["description"],
        )
        table.full_clean()
        table.save()
        columns = table.value_columns
        rows = obj["rows"] or {}
        count = lookup_rows_replace(table, ((k, [(v or {}).get(c) for c in columns]) for k, v in sorted(rows.items())))
        audit.append((AuditOperation.UPDATE if old else AuditOperation.CREATE, "lookup_tables", table.pk, old,
                      _table_audit(table, count)))  # fmt: skip
    if part["pruned"]:
        for table in LookupTable.objects.filter(name__in=part["removed"]):
            audit.append(
                (AuditOperation.DELETE, "lookup_tables", table.pk, _table_audit(table, table.rows.count()), None)
            )
            table.delete()
    config_audit_write_many(change=change, rows=audit)


def _csv_rows(stream, key_column: str | None):
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LookupTableInvalid("empty CSV: the first line names the columns") from None
    key_column = key_column or header[0]
    if key_column not in header:
        raise LookupTableInvalid(f"no column {key_column!r} in the header")
    key_at = header.index(key_column)
    columns = [h for i, h in enumerate(header) if i != key_at]
    return key_column, columns, key_at, reader


def lookup_table_load_csv(
    *, name: str, stream, change: ConfigChange, key_column: str | None = None, description: str = ""
) -> dict:
    """Create or replace table ``name`` from CSV text (header line first); one transaction, audited."""
    key_column, columns, key_at, reader = _csv_rows(stream, key_column)
    seen: set[str] = set()

    def rows():
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            if len(record) != len(columns) + 1:
                raise LookupTableInvalid(f"line {line}: {len(record)} fields, the header has {len(columns) + 1}")
            key = record[key_at].strip().lower() if key_column == "hostname" else record[key_at].strip()
            if key in seen:
                raise LookupTableInvalid(f"line {line}: key {key!r} given twice")
            seen.add(key)
            yield key, [v for i, v in enumerate(record) if i != key_at]

    with transaction.atomic():
        table = LookupTable.objects.select_for_update().filter(name=name).first()
        old = _table_audit(table, table.rows.count()) if table else None
        table = table or LookupTable(name=name)
        table.key_column, table.value_columns = key_column, columns
        if description:
            table.description = description
        try:
            table.full_clean()
        except Exception as exc:
            raise LookupTableInvalid(str(exc)) from None
        table.save()
        count = lookup_rows_replace(table, rows())
        config_audit_write_many(
            change=change,
            rows=[(AuditOperation.UPDATE if old else AuditOperation.CREATE, "lookup_tables", table.pk, old,
                   _table_audit(table, count))],
        )  # fmt: skip
    return {"name": name, "key_column": key_column, "value_columns": columns, "rows": count}
