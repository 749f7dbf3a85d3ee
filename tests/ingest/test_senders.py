"""Each shipped sender configuration, posted exactly as that sender would post it.

The request bodies are rendered from the configuration files in deploy/ (the
fields of rsyslog's template, syslog-ng's format-json body), so a change to a
config that MUTT would not accept fails here.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from alerts.models import IngestBatch
from tests.ingest.conftest import stored_events

pytestmark = pytest.mark.django_db

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

# One syslog message as the sender parsed it, with characters that need escaping.
SAMPLE = {
    "timereported": "2026-03-01T10:15:30.123456+01:00",
    "hostname": "Core-SW-01",
    "msg": ' %LINK-3-UPDOWN: Interface Gi0/1, changed state to down "uplink" \\ tab\there',
    "syslogseverity": 3,
    "syslogfacility-text": "local7",
    "programname": "ios",
}


def _rsyslog_settings() -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    conf = (DEPLOY / "rsyslog" / "99-mutt.conf").read_text()
    properties = re.findall(r'property\(outname="([^"]+)" name="([^"]+)"[^)]*?(datatype="number")?[^)]*\)', conf)
    action = dict(re.findall(r'^\s*([a-zA-Z.]+)="([^"]*)"', conf.split("action(", 1)[1], re.M))
    return properties, action


def _rsyslog_record(properties) -> bytes:
    # option.jsonf: each property becomes "outname":value with JSON escaping,
    # numbers unquoted; rsyslog separates the fields with ", ".
    fields = [
        f"{json.dumps(out)}:{SAMPLE[name] if number else json.dumps(SAMPLE[name])}" for out, name, number in properties
    ]
    return ("{" + ", ".join(fields) + "}").encode()


def test_rsyslog_omhttp_newline_batch_gzip(client, api_key, redis_client):
    properties, action = _rsyslog_settings()
    assert (action["batch"], action["batch.format"], action["compress"]) == ("on", "newline", "on")
    assert action["restpath"] == "api/v2/ingest" and action["usehttps"] == "on"
    assert action["queue.type"] == "LinkedList" and action["queue.filename"]  # disk-assisted
    batch = b"\n".join([_rsyslog_record(properties)] * int(action["batch.maxsize"]))  # omhttp: no trailing newline
    response = client.post(
        "/" + action["restpath"],
        gzip.compress(batch),
        content_type="application/json",
        headers={"X-API-Key": api_key, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 202, response.json()
    assert response.json()["accepted"] == 100 and response.json()["rejected"] == []
    event = stored_events()[0]
    assert event["hostname"] == "core-sw-01"
    assert event["message"] == SAMPLE["msg"]
    assert event["timestamp"] == "2026-03-01T09:15:30.123456+00:00"
    assert (event["syslog_severity"], event["facility"], event["program"]) == (3, "local7", "ios")


def test_rsyslog_kafkarest_batch_format(client, api_key, redis_client):
    properties, _ = _rsyslog_settings()
    records = b",".join(b'{"value":' + _rsyslog_record(properties) + b"}" for _ in range(3))
    response = client.post(
        "/api/v2/ingest",
        b'{"records":[' + records + b"]}",
        content_type="application/vnd.kafka.json.v2+json",
        headers={"X-API-Key": api_key},
    )
    assert response.status_code == 202 and response.json()["accepted"] == 3


def test_syslog_ng_http_ndjson_batch(client, api_key, redis_client):
    conf = (DEPLOY / "syslog-ng" / "mutt.conf").read_text()
    body_template = re.search(r"body\('\$\(format-json (.*)\)'\)", conf).group(1)
    assert re.search(r'delimiter\("\\n"\)', conf) and "batch-lines(100)" in conf
    headers = dict(h.split(": ", 1) for h in re.findall(r'"([A-Za-z-]+: [^"]+)"', conf.split("headers(", 1)[1]))
    macros = {
        "ISODATE": "2026-03-01T10:15:30+01:00",
        "HOST": "Core-SW-01",
        "MESSAGE": SAMPLE["msg"],
        "LEVEL_NUM": "3",
        "FACILITY": "local7",
        "PROGRAM": "ios",
    }
    record = {}
    for name, value in re.findall(r"(\w+)=(\S+)", body_template):
        typed = re.fullmatch(r"int\(\$\{(\w+)\}\)", value)
        record[name] = int(macros[typed.group(1)]) if typed else macros[value[2:-1]]
    body = "\n".join(json.dumps(record, separators=(",", ":")) for _ in range(100)).encode()
    response = client.post("/api/v2/ingest", body, content_type=headers["Content-Type"], headers={"X-API-Key": api_key})
    assert response.status_code == 202 and response.json()["accepted"] == 100
    assert IngestBatch.objects.count() == 1
    event = stored_events()[0]
    assert (event["hostname"], event["syslog_severity"], event["message"]) == ("core-sw-01", 3, SAMPLE["msg"])


def test_snmptrapd_config_hands_traps_to_the_shipped_handler():
    conf = (DEPLOY / "snmp" / "snmptrapd.conf").read_text()
    assert re.search(r"^traphandle default /usr/local/bin/mutt-traphandle$", conf, re.M)
    assert re.search(r"^outputOption n$", conf, re.M)  # numeric OIDs: trap_oid is validated as dotted numbers
    assert (DEPLOY / "snmp" / "mutt-traphandle").stat().st_mode & 0o111
