"""A local stand-in speaking the slice of Vault's HTTP API MUTT uses (no Vault server runs here).

AppRole login, KV v2 read, token renew-self. Records calls so tests can
assert on them; ``refuse_renewal`` makes renew-self answer 403.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class VaultStandIn:
    def __init__(
        self, role_id: str, secret_id: str, kv: dict, mount: str = "secret", path: str = "mutt", ttl: int = 3600
    ):
        self.role_id, self.secret_id, self.kv, self.mount, self.path, self.ttl = (
            role_id,
            secret_id,
            kv,
            mount,
            path,
            ttl,
        )
        self.tokens: set[str] = set()
        self.calls: list[str] = []
        self.refuse_renewal = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _authorised(self) -> bool:
                return self.headers.get("X-Vault-Token") in stand_in.tokens

            def do_POST(self):
                stand_in.calls.append(f"POST {self.path}")
                if self.path == "/v1/auth/approle/login":
                    body = self._body()
                    if body.get("role_id") != stand_in.role_id or body.get("secret_id") != stand_in.secret_id:
                        return self._reply(400, {"errors": ["invalid role or secret ID"]})
                    token = "s." + secrets.token_hex(8)
                    stand_in.tokens.add(token)
                    return self._reply(
                        200,
                        {
                            "auth": {
                                "client_token": token,
                                "lease_duration": stand_in.ttl,
                                "renewable": True,
                                "policies": ["mutt"],
                            }
                        },
                    )
                if self.path == "/v1/auth/token/renew-self":
                    if stand_in.refuse_renewal or not self._authorised():
                        return self._reply(403, {"errors": ["permission denied"]})
                    return self._reply(
                        200,
                        {
                            "auth": {
                                "client_token": self.headers["X-Vault-Token"],
                                "lease_duration": stand_in.ttl,
                                "renewable": True,
                            }
                        },
                    )
                return self._reply(404, {"errors": []})

            def do_PUT(self):
                return self.do_POST()

            def do_GET(self):
                stand_in.calls.append(f"GET {self.path}")
                if not self._authorised():
                    return self._reply(403, {"errors": ["permission denied"]})
                if self.path.split("?")[0] == f"/v1/{stand_in.mount}/data/{stand_in.path}":
                    return self._reply(200, {"data": {"data": stand_in.kv, "metadata": {"version": 1}}})
                return self._reply(404, {"errors": []})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
