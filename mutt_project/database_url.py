"""``DATABASE_URL`` (and ``DATABASE_REPLICA_URL``) to Django's ``DATABASES`` entry, multi-host included.

PostgreSQL failover without a proxy: libpq accepts several hosts in one URL,
``postgres://u:p@h1:5432,h2:5432/mutt?target_session_attrs=read-write``, and
tries them in order until one accepts writes. dj-database-url refuses such a
netloc, so the host list is split off here and handed to Django as libpq's
comma-separated ``host`` and ``port`` (Django passes both through to psycopg);
every query parameter becomes a connection option as dj-database-url does.

A multi-host URL without ``target_session_attrs`` gets ``read-write``: without
it libpq would settle on the first host that answers, a standby included, and
ingest would take 503s from it for as long as it stayed up.

Pure: no Django import, no connection (docs/ha.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

MULTI_HOST_ENGINE = "mutt_project.db_failover"


@dataclass(frozen=True)
class HostPort:
    host: str
    port: str  # "" = libpq's default


def _split_hosts(hostlist: str) -> list[HostPort]:
    """``h1:5432,h2,[::1]:5433`` -> host/port pairs (IPv6 literals in brackets)."""
    pairs = []
    for item in hostlist.split(","):
        item = item.strip()
        if not item:
            raise ValueError("an empty host in the host list")
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port = item.partition(":")
        if port and not port.isdigit():
            raise ValueError(f"port {port!r} of host {host!r} is not a number")
        pairs.append(HostPort(unquote(host), port))
    return pairs


def url_hosts(url: str) -> list[HostPort]:
    """The hosts a PostgreSQL URL names, in the order libpq tries them."""
    netloc = urlsplit(url).netloc
    return _split_hosts(netloc.rpartition("@")[2])


def database_settings(url: str, parse: Callable[..., dict], conn_max_age: int, setting: str = "DATABASE_URL") -> dict:
    """Django's database entry for ``url``; ``parse`` is ``dj_database_url.parse``.

    Raises ``ValueError`` naming ``setting`` for a URL that cannot be read.
    """
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    try:
        hosts = _split_hosts(hostlist)
    except ValueError as exc:
        raise ValueError(f"{setting}: {exc}") from None
    if len(hosts) == 1:
        return parse(url, conn_max_age=conn_max_age)
    ports = {h.port for h in hosts}
    if "" in ports and len(ports) > 1:
        raise ValueError(f"{setting}: give a port for every host of a multi-host URL, or for none")
    # dj-database-url reads everything but the host list from a one-host copy of the URL.
    first = hosts[0]
    one_host = urlunsplit(parts._replace(netloc=f"{userinfo}{at}{_netloc_host(first)}"))
    config = parse(one_host, conn_max_age=conn_max_age)
    config["HOST"] = ",".join(h.host for h in hosts)
    config["PORT"] = ",".join(h.port for h in hosts) if first.port else ""
    config.setdefault("OPTIONS", {}).setdefault("target_session_attrs", "read-write")
    config["ENGINE"] = MULTI_HOST_ENGINE
    return config


def _netloc_host(hp: HostPort) -> str:
    host = f"[{hp.host}]" if ":" in hp.host else hp.host
    return f"{host}:{hp.port}" if hp.port else host


def hosts_described(config: dict) -> str:
    """``h1:5432, h2:5433`` for an error message (never the password)."""
    hosts = str(config.get("HOST") or "").split(",")
    ports = str(config.get("PORT") or "").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    return ", ".join(f"{h}:{p}" if p else h for h, p in zip(hosts, ports, strict=False))


def no_writable_host_message(config: dict, detail: str, setting: str = "DATABASE_URL") -> str:
    """The error a process gives when no host of a multi-host URL accepts writes."""
    attrs = (config.get("OPTIONS") or {}).get("target_session_attrs", "read-write")
    return (
        f"{setting}: no host accepts a connection with target_session_attrs={attrs} "
        f"(tried {hosts_described(config)}): is a primary up and reachable? {detail.strip()}"
    )
