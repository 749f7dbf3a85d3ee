"""A small OIDC provider for tests (it sits outside the product): discovery, authorize, token, JWKS, userinfo.

ID tokens are signed RS256 with a key generated at start. ``users`` maps a
login name to its claims; ``/authorize?login=NAME`` logs that user in at once
(no form) and redirects back with a code.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class OidcStandin:
    def __init__(self, client_id: str, client_secret: str, users: dict[str, dict]):
        self.client_id, self.client_secret, self.users = client_id, client_secret, users
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (login, nonce)
        self.tokens: dict[str, str] = {}  # access token -> login
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.login = next(iter(users))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def endpoints(self) -> dict[str, str]:
        return {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.url + "/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": self.url + "/token",
            "OIDC_OP_USER_ENDPOINT": self.url + "/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": self.url + "/jwks",
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(
                        {
                            "issuer": provider.url,
                            **{k.split("_")[2].lower(): v for k, v in provider.endpoints().items()},
                        }
                    )
                if url.path == "/jwks":
                    jwk = json.loads(RSAAlgorithm.to_jwk(provider.key.public_key()))
                    return self._json({"keys": [{**jwk, "kid": provider.kid, "alg": "RS256", "use": "sig"}]})
                if url.path == "/authorize":
                    if query.get("client_id") != provider.client_id:
                        return self._json({"error": "unauthorized_client"}, 400)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = (query.get("login", provider.login), query.get("nonce", ""))
                    self.send_response(302)
                    location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                    self.send_header("Location", location)
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    if token not in provider.tokens:
                        return self._json({"error": "invalid_token"}, 401)
                    return self._json(provider.users[provider.tokens[token]])
                return self._json({"error": "not found"}, 404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path != "/token":
                    return self._json({"error": "not found"}, 404)
                if form.get("client_secret") != provider.client_secret or form.get("code") not in provider.codes:
                    return self._json({"error": "invalid_grant"}, 400)
                login, nonce = provider.codes.pop(form["code"])
                now = int(time.time())
                claims = provider.users[login]
                id_token = jwt.encode(
                    {"iss": provider.url, "aud": provider.client_id, "sub": claims["sub"], "iat": now,
                     "exp": now + 300, "nonce": nonce},
                    provider.key, algorithm="RS256", headers={"kid": provider.kid},
                )  # fmt: skip
                access = secrets.token_urlsafe(16)
                provider.tokens[access] = login
                return self._json(
                    {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": 300}
                )

        return Handler
