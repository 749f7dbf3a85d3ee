"""A PostgreSQL primary and a streaming standby of its own (temp dir, free ports): failover tests, benches, harnesses.

The real thing, small: ``initdb``, ``pg_basebackup -R`` for the standby, ``kill -9``
of a postmaster and ``pg_ctl promote``. The Debian binaries come from
``MUTT_PG_BINDIR`` (services.env); as root, PostgreSQL runs as ``MUTT_PG_USER``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "mutt-failover-test"


def _as_pg(user: str, args: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0 and user:
        args = ["runuser", "-u", user, "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


@dataclass
class Node:
    name: str
    data: Path
    port: int

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None


@dataclass
class PgCluster:
    bindir: str
    user: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mutt-pg-failover-")))
    nodes: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        os.chmod(self.root, 0o755)  # PostgreSQL runs as its own user and must enter it

    def _bin(self, name: str) -> str:
        return f"{self.bindir}/{name}"

    def env(self) -> dict[str, str]:
        return os.environ | {"PGPASSWORD": PASSWORD}

    def _mkdir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(mode=0o700)
        if os.geteuid() == 0:
            subprocess.run(["chown", self.user, str(path)], check=True)
        return path

    def primary_init(self, port: int, extra_conf: str = "") -> Node:
        data = self._mkdir("primary")
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD)
        pwfile.chmod(0o644)
        _as_pg(self.user, [self._bin("initdb"), "-D", str(data), "-U", "mutt", f"--pwfile={pwfile}",
                           "--auth=scram-sha-256", "-E", "UTF8"])  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\n{extra_conf}\n")
        node = self.nodes["primary"] = Node("primary", data, port)
        self.start(node)
        return node

    def standby_clone(self, name: str, port: int, source: Node) -> Node:
        data = self._mkdir(name)
        _as_pg(self.user, [self._bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(source.port), "-U", "mutt",
                           "-D", str(data), "-R", "-X", "stream", "--checkpoint=fast"], env=self.env())  # fmt: skip
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"primary_conninfo = 'host=127.0.0.1 port={source.port} user=mutt password={PASSWORD} "
                       f"application_name={name}'\n"
                       "synchronous_standby_names = ''\n")  # promoted, it has no standby of its own  # fmt: skip
        node = self.nodes[name] = Node(name, data, port)
        self.start(node)
        return node

    def start(self, node: Node) -> None:
        _as_pg(self.user, [self._bin("pg_ctl"), "-D", str(node.data), "-l", str(node.data / "server.log"),
                           "-o", f"-p {node.port}", "-w", "-t", "60", "start"])  # fmt: skip

    def stop(self, node: Node) -> None:
        _as_pg(self.user, [self._bin("pg_ctl"), "-D", str(node.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def kill9(self, node: Node) -> None:
        pid = node.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)

    def promote(self, node: Node) -> None:
        _as_pg(self.user, [self._bin("pg_ctl"), "-D", str(node.data), "-w", "-t", "60", "promote"])

    def psql(self, node: Node, sql: str, db: str = "postgres") -> str:
        done = subprocess.run([self._bin("psql"), "-h", "127.0.0.1", "-p", str(node.port), "-U", "mutt", "-d", db,
                               "-XtAc", sql], env=self.env(), capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.strip()

    def url(self, *names: str, db: str = "mutt") -> str:
        hosts = ",".join(f"127.0.0.1:{self.nodes[n].port}" for n in names)
        return f"postgres://mutt:{PASSWORD}@{hosts}/{db}?target_session_attrs=read-write"

    def stop_all(self) -> None:
        for node in self.nodes.values():
            if node.pid() and _alive(node.pid() or 0):
                subprocess.run(
                    ["runuser", "-u", self.user, "--"] * (os.geteuid() == 0)
                    + [self._bin("pg_ctl"), "-D", str(node.data), "-m", "immediate", "-w", "stop"],
                    capture_output=True,
                )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone; PostgreSQL is not our child (pg_ctl forks it).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
