"""Schemathesis hooks: every request to /api/v1 carries a token of its own.

Switchboard accepts a client's token once (its jti), so a fixed
Authorization header would be refused from the second request on. Each
request gets a fresh JWT, signed HS256 with the client's secret as RFC 7523
asks: iss = sub = the client id, aud = the site's /api/v1, five minutes of
life. The client comes from SB_CLIENT_ID, SB_CLIENT_SECRET and SB_AUDIENCE.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import schemathesis


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token() -> str:
    client = os.environ["SB_CLIENT_ID"]
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({
        "iss": client, "sub": client, "aud": os.environ["SB_AUDIENCE"],
        "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()),
    }).encode())
    signed = f"{header}.{claims}".encode()
    signature = hmac.new(os.environ["SB_CLIENT_SECRET"].encode(), signed, hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signature)}"


@schemathesis.auth(refresh_interval=None)
class ClientAssertion:
    def get(self, case, ctx):
        return token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Half the bodies and every path name the queue the test made, so requests
# get past "no such queue" into the engine.
@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict) and "queue_id" in body and hash(json.dumps(body, sort_keys=True, default=str)) % 2:
        body["queue_id"] = os.environ["SB_QUEUE_ID"]
    # Webhook receivers the fuzzer registers point nowhere (.invalid never
    # resolves), so nothing is ever sent out of the machine.
    if isinstance(body, dict) and isinstance(body.get("url"), str) and body["url"].startswith("http"):
        body["url"] = "https://receiver.invalid/hooks"
    return body


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if path_parameters and "queue_id" in path_parameters:
        path_parameters["queue_id"] = os.environ["SB_QUEUE_ID"]
    return path_parameters
