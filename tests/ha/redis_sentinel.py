"""A real Redis master, one replica and a Sentinel, each a Debian binary on a free port in a temp dir.

For the high-availability tests: ``RedisSentinelGroup.start()`` brings them up
and waits until the Sentinel sees the replica; ``kill_master()`` is kill -9 of
the master; ``wait_failover()`` waits until the Sentinel names the replica as
the new master. ``stop()`` ends every process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import redis

from tests.conftest import free_port, wait_for

MASTER_NAME = "mutt-ha"
PASSWORD = "ha-master-pw"
SENTINEL_PASSWORD = "ha-sentinel-pw"


class RedisSentinelGroup:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mutt-sentinel-"))
        self.master_port = free_port()
        self.replica_port = free_port()
        self.sentinel_port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}

    # -- processes --
    def _redis(self, name: str, port: int, *extra: str) -> None:
        data = self.dir / name
        data.mkdir()
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", ""]
        args += ["--appendonly", "no", "--requirepass", PASSWORD, "--masterauth", PASSWORD, *extra]
        self._spawn(name, args)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.dir / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def start(self) -> RedisSentinelGroup:
        self._redis("master", self.master_port)
        self._redis("replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.master_port))
        conf = self.dir / "sentinel.conf"  # Sentinel rewrites its file: it must be writable
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\nrequirepass {SENTINEL_PASSWORD}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master_port} 1\n"
            f"sentinel auth-pass {MASTER_NAME} {PASSWORD}\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
        )
        self._spawn("sentinel", ["redis-sentinel", str(conf)])
        wait_for(lambda: self._replicas_seen() >= 1, timeout=30, interval=0.2, message="Sentinel sees the replica")
        return self

    def _sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, password=SENTINEL_PASSWORD, socket_timeout=2, decode_responses=True)

    def _replicas_seen(self) -> int:
        try:
            with self._sentinel() as client:
                info = client.sentinel_master(MASTER_NAME)
            linked = self.node("replica").info("replication").get("master_link_status") == "up"
            return int(info.get("num-slaves", 0)) if linked else 0
        except (redis.RedisError, OSError):
            return 0

    def master_address(self) -> tuple[str, int] | None:
        try:
            with self._sentinel() as client:
                found = client.sentinel_get_master_addr_by_name(MASTER_NAME)
        except (redis.RedisError, OSError):
            return None
        return (found[0], int(found[1])) if found else None

    def node(self, name: str) -> redis.Redis:
        port = {"master": self.master_port, "replica": self.replica_port}[name]
        return redis.Redis(port=port, password=PASSWORD, socket_timeout=2, decode_responses=True)

    def kill_master(self) -> None:
        proc = self.procs["master"]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def wait_failover(self, timeout: float = 60) -> None:
        wait_for(
            lambda: self.master_address() == ("127.0.0.1", self.replica_port),
            timeout=timeout,
            interval=0.2,
            message="Sentinel promotes the replica",
        )

    # -- settings a MUTT process reads --
    def env(self, dead_sentinel_port: int | None = None) -> dict[str, str]:
        """``dead_sentinel_port``: list a Sentinel nobody runs first, as a host down among several."""
        hosts = [f"127.0.0.1:{self.sentinel_port}"]
        if dead_sentinel_port:
            hosts.insert(0, f"127.0.0.1:{dead_sentinel_port}")
        url = f"redis://:{PASSWORD}@127.0.0.1:{self.master_port}/0"
        return {
            "REDIS_URL": url,
            "CELERY_BROKER_URL": url,
            "REDIS_SENTINEL_HOSTS": ",".join(hosts),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
            "REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD,
        }

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
