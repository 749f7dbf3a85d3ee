"""A Moogsoft stand-in for local use and tests (stdlib only).

- ``POST <any path>``: a webhook delivery. Recorded (memory + JSONL file) and
  answered with the current mode's status after its delay. The REST LAM's
  multi-event form ``{"events": [...]}`` is recorded as one entry per event
  (``body`` = the event, ``batch`` = the number of events in the request);
  every entry of one request shares its ``request`` number.
- ``GET /received``: JSON list of every delivery: ``{"at", "status", "path",
  "body", "request", "batch"}`` (``?accepted=1`` for the 2xx ones only).
- ``DELETE /received``: forget everything recorded.
- ``POST /control``: ``{"status": 503, "delay": 0.5, "for_seconds": 30,
  "retry_after": 2, "body": "..."}`` changes the answer; after ``for_seconds``
  it goes back to 200. ``{}`` resets to 200 at once. ``{"refuse": ["<external_id>", ...]}``
  answers 400 to any request carrying one of those events (alone or in a
  batch), as Moogsoft does for an event it will not take; the others are fine.
- ``GET /`` and ``GET /health``: the current mode's status (a health probe).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse


class SinkState:
    def __init__(self, record_path: Path | None):
        self.lock = threading.Lock()
        # (status, entry as JSON text): text is not tracked by Python's cyclic
        # GC, so tens of thousands of recorded events cause no collector pauses,
        # which would delay the arrival stamps of the requests that follow.
        self.records: list[tuple[int, str]] = []
        self.record_path = record_path
        self.mode: dict = {}
        self.requests = 0

    def current(self) -> dict:
        with self.lock:
            until = self.mode.get("until")
            if until is not None and time.time() >= until:
                self.mode = {}
            return dict(self.mode)

    def record(self, entries: list[dict]) -> None:
        """One request's entries, numbered with the request."""
        with self.lock:
            self.requests += 1
            for entry in entries:
                entry["request"] = self.requests
            texts = [(entry["status"], json.dumps(entry)) for entry in entries]
            self.records.extend(texts)
            if self.record_path:
                with self.record_path.open("a") as fh:
                    fh.writelines(text + "\n" for _, text in texts)


class SinkHandler(BaseHTTPRequestHandler):
    server_version = "MoogSink/1.0"
    state: SinkState  # set by make_server

    def log_message(self, format, *args):  # quiet: tests read /received instead
        pass

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/received":
            accepted_only = parse_qs(url.query).get("accepted") == ["1"]
            with self.state.lock:
                records = [text for status, text in self.state.records if not accepted_only or 200 <= status < 300]
            self._send(200, ("[" + ",".join(records) + "]").encode())
            return
        mode = self.state.current()
        status = int(mode.get("status", 200))
        self._send(status, {"status": "ok" if status < 500 else "unavailable"})

    def do_DELETE(self):
        if urlparse(self.path).path == "/received":
            with self.state.lock:
                self.state.records.clear()
            self._send(200, {"cleared": True})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        arrived = time.time()  # the request's arrival (before its body is read): what a rate limit counts
        url = urlparse(self.path)
        raw = self._body()
        if url.path == "/control":
            try:
                ctl = json.loads(raw or b"{}")
            except ValueError:
                self._send(400, {"error": "control body must be JSON"})
                return
            mode = {k: ctl[k] for k in ("status", "delay", "retry_after", "body", "refuse") if k in ctl}
            if ctl.get("for_seconds"):
                mode["until"] = time.time() + float(ctl["for_seconds"])
            with self.state.lock:
                self.state.mode = mode
            self._send(200, {"mode": mode})
            return
        mode = self.state.current()
        if mode.get("delay"):
            time.sleep(float(mode["delay"]))
        status = int(mode.get("status", 200))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        batched = isinstance(body, dict) and isinstance(body.get("events"), list)
        events = body["events"] if batched else [body]
        refused = set(mode.get("refuse") or ())
        if refused and status < 300 and any(isinstance(e, dict) and e.get("external_id") in refused for e in events):
            status = 400
            mode = mode | {"body": "event refused"}
        headers_kept = {
            k: v for k, v in self.headers.items() if k.lower() in ("x-api-key", "authorization", "user-agent")
        }
        self.state.record(
            [
                {
                    "at": arrived,
                    "status": status,
                    "path": url.path,
                    "headers": headers_kept,
                    "body": event,
                    "batch": len(events) if batched else None,
                }
                for event in events
            ]
        )
        headers = {"Retry-After": str(mode["retry_after"])} if "retry_after" in mode else None
        answer = {"success": True} if status < 300 else {"error": mode.get("body", f"status {status}")}
        self._send(status, answer, headers)


def make_server(host: str, port: int, record_path: Path | None = None) -> ThreadingHTTPServer:
    state = SinkState(record_path)
    handler = type("BoundSinkHandler", (SinkHandler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    """``python -m forwarding.moog_sink --port N``: the stand-in alone (stdlib only, no Django).

    The tests run it as its own process, so the arrival stamps it records are
    never delayed by the test process's garbage collector or its other threads.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Moogsoft stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--record", default="", help="JSONL file of deliveries (none by default)")
    args = parser.parse_args()
    server = make_server(args.host, args.port, Path(args.record) if args.record else None)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
