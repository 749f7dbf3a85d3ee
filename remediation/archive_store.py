"""Where audit archives are kept: a directory, or S3-compatible object storage (boto3).

``store_from_url("file:///var/lib/mutt/archive")`` or
``store_from_url("s3://bucket/prefix", endpoint_url=...)``. A store moves whole
files (``put``/``get``) and answers ``exists``; it knows nothing about what the
files hold (that is ``remediation.archive``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse


class ArchiveStoreError(Exception):
    """The store refused or failed an operation (the caller keeps its data)."""


class ArchiveStore(Protocol):
    def put(self, key: str, source: Path) -> None: ...
    def get(self, key: str, target: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def describe(self, key: str) -> str: ...


class DirectoryStore:
    """Files under a directory (a local disk, an NFS mount). Written to a temporary name, then renamed."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ArchiveStoreError(f"archive key {key!r} leaves the archive directory")
        return path

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            os.close(fd)
            shutil.copyfile(source, tmp)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise ArchiveStoreError(f"cannot write {target}: {exc.strerror}") from exc

    def get(self, key: str, target: Path) -> None:
        try:
            shutil.copyfile(self._path(key), target)
        except OSError as exc:
            raise ArchiveStoreError(f"cannot read {self._path(key)}: {exc.strerror}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def describe(self, key: str) -> str:
        return str(self._path(key))


class S3Store:
    """Objects in an S3-compatible bucket; credentials from boto3's usual chain (AWS_* variables, profile, role)."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str = "", region: str = ""):
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source: Path) -> None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(source), self.bucket, self._key(key))
        except (Boto3Error, BotoCoreError, ClientError) as exc:
            raise ArchiveStoreError(f"upload to {self.describe(key)} failed: {exc}") from exc

    def get(self, key: str, target: Path) -> None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.download_file(self.bucket, self._key(key), str(target))
        except (Boto3Error, BotoCoreError, ClientError) as exc:
            raise ArchiveStoreError(f"download of {self.describe(key)} failed: {exc}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ArchiveStoreError(f"cannot check {self.describe(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ArchiveStoreError(f"cannot check {self.describe(key)}: {exc}") from exc
        return True

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def store_from_url(url: str, *, endpoint_url: str = "", region: str = "") -> ArchiveStore:
    """``file:///dir`` (or a plain absolute path) or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ArchiveStoreError(f"archive URL {url!r} names no bucket")
        return S3Store(parsed.netloc, parsed.path, endpoint_url=endpoint_url, region=region)
    if parsed.scheme == "file":
        return DirectoryStore(parsed.path)
    if parsed.scheme == "" and url.startswith("/"):
        return DirectoryStore(url)
    raise ArchiveStoreError(f"archive URL {url!r}: use file:///directory or s3://bucket/prefix")
