"""Redis through Sentinel, one process: the connection factory follows a failover (Lua scripts included), and
Sentinel settings that cannot work stop a process at start with the setting's name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from forwarding import rate_limiter
from forwarding.circuit_breaker import CircuitBreaker
from mutt_project import redis_keys
from mutt_project.redis_client import celery_broker_settings, get_redis, reset_redis, sentinel_check
from tests.conftest import ROOT, free_port, wait_for
from tests.ha.redis_sentinel import RedisSentinelGroup

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture(scope="module")
def group():
    started = RedisSentinelGroup().start()
    yield started
    started.stop()


def _settings(group: RedisSentinelGroup, **changes) -> override_settings:
    env = group.env(dead_sentinel_port=free_port())
    values = {
        "REDIS_URL": env["REDIS_URL"],
        "REDIS_SENTINEL_HOSTS": env["REDIS_SENTINEL_HOSTS"].split(","),
        "REDIS_SENTINEL_MASTER": env["REDIS_SENTINEL_MASTER"],
        "REDIS_SENTINEL_PASSWORD": env["REDIS_SENTINEL_PASSWORD"],
    }
    return override_settings(**(values | changes))


def test_broker_url_names_every_sentinel_with_the_masters_credentials():
    url, options = celery_broker_settings(
        "redis://:p%40ss@old-master:6379/2", ["s1:26379", " s2:26380"], "mutt", "sentinel-secret"
    )
    assert url == "sentinel://:p%40ss@s1:26379/2;sentinel://:p%40ss@s2:26380/2"
    assert options["master_name"] == "mutt" and options["sentinel_kwargs"]["password"] == "sentinel-secret"
    with pytest.raises(ImproperlyConfigured, match="REDIS_SENTINEL_HOSTS: 's1' is not host:port"):
        celery_broker_settings("redis://h:6379/0", ["s1"], "mutt", "")


def test_wrong_sentinel_settings_are_named(group):
    with _settings(group, REDIS_SENTINEL_MASTER="no-such-master"):
        reset_redis()
        with pytest.raises(
            ImproperlyConfigured, match="REDIS_SENTINEL_MASTER: .* know no master named 'no-such-master'"
        ):
            sentinel_check()
    with _settings(group, REDIS_SENTINEL_HOSTS=[f"127.0.0.1:{free_port()}"]):
        reset_redis()
        with pytest.raises(ImproperlyConfigured, match="REDIS_SENTINEL_HOSTS: no Sentinel reachable"):
            sentinel_check()
    with _settings(group, REDIS_SENTINEL_PASSWORD="wrong"):
        reset_redis()
        with pytest.raises(ImproperlyConfigured, match="REDIS_SENTINEL_PASSWORD: the Sentinel at .* refused it"):
            sentinel_check()
    with _settings(group):
        reset_redis()
        assert sentinel_check() == ("127.0.0.1", group.master_port)


@pytest.mark.parametrize(
    ("change", "named"),
    [({"REDIS_SENTINEL_MASTER": "no-such-master"}, "REDIS_SENTINEL_MASTER"), ({}, "REDIS_SENTINEL_HOSTS")],
)
def test_a_process_with_unusable_sentinel_settings_stops_at_start_naming_the_setting(group, change, named):
    env = os.environ | group.env() | change
    if named == "REDIS_SENTINEL_HOSTS":
        env["REDIS_SENTINEL_HOSTS"] = f"127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-c", "import mutt_project.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {named}: " in done.stderr, done.stderr[-2000:]


@pytest.fixture
def own_group():
    started = RedisSentinelGroup().start()
    yield started
    started.stop()


def test_factory_limiter_and_breaker_follow_a_failover_and_reload_their_scripts(own_group):
    group = own_group
    with _settings(group):
        reset_redis()
        client = get_redis()
        client.set("ha-test:before", "1")
        assert rate_limiter.slot_reserve(1.0).reserved
        assert CircuitBreaker().acquire().may_send
        wait_for(lambda: group.node("replica").get("ha-test:before") == "1", timeout=30, message="replicated")

        group.kill_master()
        group.wait_failover()

        # The same client object, no restart: the next connections go to the promoted replica,
        # whose script cache is empty (the limiter and breaker scripts are loaded again).
        assert group.node("replica").script_exists(rate_limiter._script(client, rate_limiter._RESERVE_LUA).sha) == [
            False
        ]
        wait_for(lambda: _answers(client), timeout=60, interval=0.2, message="the client reaches the new master")
        assert rate_limiter.slot_reserve(1.0).reserved
        assert CircuitBreaker().acquire().may_send
        new_master = group.node("replica")
        assert new_master.get(redis_keys.RATE_LIMIT) is not None
        assert new_master.info("replication")["role"] == "master"
        assert new_master.get("ha-test:before") == "1"


def _answers(client) -> bool:
    try:
        return client.set("ha-test:after", "1") is True
    except Exception:  # noqa: BLE001 - any Redis or socket error means "not yet"
        return False


def test_sentinel_hosts_without_a_master_name_stop_the_settings():
    env = os.environ | {"REDIS_SENTINEL_HOSTS": "127.0.0.1:26379"}
    env.pop("REDIS_SENTINEL_MASTER", None)
    done = subprocess.run(
        [sys.executable, "-c", "import mutt_project.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "REDIS_SENTINEL_MASTER: required when REDIS_SENTINEL_HOSTS is set" in done.stderr, done.stderr[-2000:]
