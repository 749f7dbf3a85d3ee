"""Audit archives: a table's rows written to gzip-compressed CSV, verified, and brought back.

Format: PostgreSQL's own ``COPY ... (FORMAT csv, HEADER)`` through gzip. It
round-trips every column type MUTT stores (timestamptz, jsonb, NULL) exactly,
is read back by the same ``COPY ... FROM``, streams in constant memory, and
stays readable for the seven years an archive is kept with nothing more than
``zcat`` (docs/data-lifecycle.md explains the choice against Parquet).

Each archive is two objects in the store: ``<key>`` (the data) and
``<key>.manifest.json`` (table, columns, row count, SHA-256 of the stored file,
and a content digest PostgreSQL computes over the rows). ``archive_write``
re-reads what the store holds and checks the checksum and the row count
before it returns; only then may the caller delete the rows. Restoring checks
the checksum again, loads the rows, and compares count and content digest.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import connection
from django.utils import timezone

from remediation.archive_store import ArchiveStore

FORMAT = "csv+gzip"
_CHUNK = 1024 * 1024


class ArchiveVerifyError(Exception):
    """What the store holds is not what was written (count, checksum or content differ)."""


@dataclass
class Manifest:
    table: str
    key: str
    columns: list[str]
    rows: int
    sha256: str
    content_md5: str
    format: str = FORMAT
    created_at: str = field(default_factory=lambda: timezone.now().isoformat())
    extra: dict = field(default_factory=dict)

    @property
    def manifest_key(self) -> str:
        return manifest_key(self.key)


def manifest_key(key: str) -> str:
    return key + ".manifest.json"


class _HashingWriter(io.RawIOBase):
    """A binary sink that writes to ``target`` and hashes every byte on the way."""

    def __init__(self, target):
        self.target = target
        self.sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha.update(data)
        self.target.write(data)
        return len(data)


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def csv_records(path: Path) -> tuple[list[str], int]:
    """The header and the number of records of a gzip CSV (records, not lines: messages may hold newlines)."""
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, sum(1 for _ in reader)


def table_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def content_digest(relation: str, where: str = "", params: list | None = None) -> tuple[int, str]:
    """Row count and an MD5 over every row's text, in id order: equal digests mean equal rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.id)), '') "  # nosec B608  # relation is a partition name read from pg_inherits, quoted; where is a fixed clause with %s params
            f'FROM "{relation}" t {where}',
            params or [],
        )
        rows, digest = cursor.fetchone()
    return int(rows), digest


def _quoted(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def archive_write(
    store: ArchiveStore,
    *,
    table: str,
    key: str,
    columns: list[str],
    select_sql: str,
    params: list | None = None,
    expected_rows: int,
    content_md5: str,
    extra: dict | None = None,
) -> Manifest:
    """Write ``select_sql``'s rows to ``key`` and verify the stored copy; raise if anything differs."""
    with tempfile.TemporaryDirectory(prefix="mutt-archive-") as tmp:
        local = Path(tmp) / "data.csv.gz"
        with open(local, "wb") as raw:
            hashing = _HashingWriter(raw)
            with gzip.GzipFile(fileobj=hashing, mode="wb", compresslevel=6, mtime=0) as gz:
                with connection.cursor() as cursor:
                    sql = cursor.mogrify(select_sql, params or []).decode()
                    cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)", gz)
            sha = hashing.sha.hexdigest()
        manifest = Manifest(
            table=table,
            key=key,
            columns=columns,
            rows=expected_rows,
            sha256=sha,
            content_md5=content_md5,
            extra=extra or {},
        )
        store.put(key, local)
        archive_verify(store, manifest, Path(tmp) / "check.csv.gz")
        manifest_path = Path(tmp) / "manifest.json"
        manifest_path.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True))
        store.put(manifest.manifest_key, manifest_path)
        if manifest_read(store, key) != manifest:
            raise ArchiveVerifyError(f"{store.describe(manifest.manifest_key)} does not read back as written")
    return manifest


def archive_verify(store: ArchiveStore, manifest: Manifest, scratch: Path) -> None:
    """Fetch the stored data file: its SHA-256, header and record count must match the manifest."""
    store.get(manifest.key, scratch)
    sha = file_sha256(scratch)
    if sha != manifest.sha256:
        raise ArchiveVerifyError(f"{store.describe(manifest.key)}: checksum {sha} != {manifest.sha256}")
    header, rows = csv_records(scratch)
    if header != manifest.columns:
        raise ArchiveVerifyError(f"{store.describe(manifest.key)}: columns {header} != {manifest.columns}")
    if rows != manifest.rows:
        raise ArchiveVerifyError(f"{store.describe(manifest.key)}: {rows} rows stored, {manifest.rows} expected")


def manifest_read(store: ArchiveStore, key: str) -> Manifest | None:
    if not store.exists(manifest_key(key)):
        return None
    with tempfile.TemporaryDirectory(prefix="mutt-archive-") as tmp:
        path = Path(tmp) / "manifest.json"
        store.get(manifest_key(key), path)
        return Manifest(**json.loads(path.read_text()))


def archive_load(store: ArchiveStore, manifest: Manifest, table: str) -> None:
    """COPY an archive's rows into ``table`` (inside the caller's transaction), after checking its checksum."""
    with tempfile.TemporaryDirectory(prefix="mutt-archive-") as tmp:
        local = Path(tmp) / "data.csv.gz"
        store.get(manifest.key, local)
        sha = file_sha256(local)
        if sha != manifest.sha256:
            raise ArchiveVerifyError(f"{store.describe(manifest.key)}: checksum {sha} != {manifest.sha256}")
        with gzip.open(local, "rb") as gz, connection.cursor() as cursor:
            cursor.copy_expert(
                f'COPY "{table}" ({_quoted(manifest.columns)}) FROM STDIN WITH (FORMAT csv, HEADER true)', gz
            )
