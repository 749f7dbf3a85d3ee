"""No request can produce a 500: random bodies, headers and encodings thrown at the endpoint."""

from __future__ import annotations

import gzip
import io
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.wsgi import application as ingest_process_app
from tests.ingest.conftest import URL

pytestmark = pytest.mark.django_db

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
# Events that are nearly right: the validator has to look at each field.
near_events = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.one_of(
            st.text(max_size=40), st.integers(), st.floats(allow_nan=False), st.datetimes().map(lambda d: d.isoformat())
        ),
        "hostname": st.one_of(st.text(max_size=300), json_values),
        "host": json_values,
        "message": st.one_of(st.text(), json_values),
        "msg": json_values,
        "syslog_severity": st.one_of(st.integers(-3, 10), st.text(max_size=10), json_values),
        "trap_oid": st.one_of(st.from_regex(r"\A\.?[0-9]{1,3}(\.[0-9]{1,5}){0,8}\Z"), json_values),
        "source": st.one_of(st.sampled_from(["syslog", "snmp", "x"]), json_values),
        "correlation_id": st.one_of(st.uuids().map(str), json_values),
    },
).flatmap(lambda known: st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(lambda extra: extra | known))


def _dumps(value) -> bytes:
    # The standard library encoder, not orjson: it writes what orjson refuses to
    # (integers past 64 bits, lone surrogates as escapes), which the server must survive.
    return json.dumps(value).encode()


def _as_body(kind: str, events: list, raw: bytes) -> bytes:
    if kind == "object":
        return _dumps(events[0] if events else {})
    if kind == "array":
        return _dumps(events)
    if kind == "ndjson":
        return b"\n".join(_dumps(e) for e in events)
    if kind == "kafkarest":
        return _dumps({"records": [{"value": e} for e in events]})
    if kind == "spliced":  # valid JSON with random bytes cut in
        body = _dumps(events)
        return body[: len(body) // 2] + raw + body[len(body) // 2 :]
    return raw


bodies = st.builds(
    _as_body,
    st.sampled_from(["object", "array", "ndjson", "kafkarest", "spliced", "raw"]),
    st.lists(near_events | json_values, max_size=5),
    st.binary(max_size=200),
)
encodings = st.sampled_from([None, "gzip", "gzip-wrong", "deflate", "identity", "br", "garbage-gzip"])
content_types = st.one_of(
    st.sampled_from(
        [
            None,
            "application/json",
            "application/x-ndjson",
            "text/plain",
            "application/xml",
            "application/json; charset=latin-1",
            "application/vnd.kafka.json.v2+json",
        ]
    ),
    st.text(max_size=30).filter(lambda t: "\n" not in t and "\r" not in t),
)
keys = st.sampled_from(
    [
        {"X-API-Key": "test-ingest-key-1"},
        {"Authorization": "Bearer test-ingest-key-2"},
        {"Authorization": "Basic abc"},
        {"X-API-Key": "nope"},
        {},
    ]
)


def _encode(body: bytes, encoding: str | None) -> tuple[bytes, dict]:
    if encoding == "gzip":
        return gzip.compress(body), {"Content-Encoding": "gzip"}
    if encoding == "deflate":
        return zlib.compress(body), {"Content-Encoding": "deflate"}
    if encoding == "gzip-wrong":  # says gzip, is not
        return body, {"Content-Encoding": "gzip"}
    if encoding == "garbage-gzip":  # a truncated gzip stream
        return gzip.compress(body)[:-5], {"Content-Encoding": "gzip"}
    if encoding is None:
        return body, {}
    return body, {"Content-Encoding": encoding}


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    body=bodies,
    encoding=encodings,
    content_type=content_types,
    key=keys,
    path=st.sampled_from([URL, "/ingest", URL + "/"]),
)
def test_no_request_produces_a_server_error(client, redis_client, body, encoding, content_type, key, path):
    data, headers = _encode(body, encoding)
    response = client.generic("POST", path, data, content_type=content_type, headers=key | headers)
    assert response.status_code in (202, 400, 401, 413, 415), response.content[:300]
    payload = response.json()
    if response.status_code == 202:
        assert payload["status"] == "accepted"
    else:
        assert isinstance(payload["error"], str) and payload["error"]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    body=bodies,
    encoding=encodings,
    content_type=content_types,
    key=keys,
    method=st.sampled_from(["POST", "POST", "GET", "PUT"]),
    path=st.sampled_from([URL, "/ingest", URL + "/", "/admin/", "/x"]),
)
def test_the_ingest_process_app_never_produces_a_server_error(
    redis_client, body, encoding, content_type, key, method, path
):
    """The same through the ingest process's own WSGI application (no Django request handling)."""
    data, headers = _encode(body, encoding)
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    environ |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in (key | headers).items()}
    answer = {}
    payload = b"".join(ingest_process_app(environ, lambda status, hdrs: answer.update(status=int(status[:3]))))
    assert answer["status"] in (202, 400, 401, 404, 405, 413, 415), payload[:300]
    assert answer["status"] == 202 or _has_error_message(payload)


def _has_error_message(payload: bytes) -> bool:
    error = json.loads(payload).get("error")
    return isinstance(error, str) and bool(error)
