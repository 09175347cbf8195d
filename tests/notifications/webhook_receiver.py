"""A partner system's webhook endpoint for tests: a real HTTP server on 127.0.0.1, in a thread of the test process.

It is the edge of the system under test (nothing of ours is replaced): the code that posts the webhook opens a real
TCP connection to it. It behaves like a careful partner:
- it keeps every request it received (`received`: headers and raw body, in order);
- it checks the HMAC-SHA256 signature over "<timestamp>.<body>" with the shared secret itself (hashlib/hmac, not our
  code) and refuses a bad one with 401;
- it processes each `Idempotency-Key` once (`processed`) and acknowledges a repeated key without processing it again;
  `completed` lists the key of every request it answered with a 2xx, in order;
- scripted failures: `statuses` answers the first requests with those codes (then 200); `hold_first` keeps the first
  request open, unanswered and unprocessed, until `release` is set (a receiver still working when its client died);
  `hang` does that to every request (a receiver that never answers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD_LIMIT_SECONDS = 120  # a held request gives up after this, so that no thread outlives a failed test for long


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def key(self) -> str:
        return self.headers.get("Idempotency-Key", "")

    def json(self) -> Any:
        return json.loads(self.body)


def valid_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers.get("X-Jointops-Timestamp", "")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return bool(timestamp) and hmac.compare_digest(expected, headers.get("X-Jointops-Signature", ""))


class WebhookReceiver:
    def __init__(
        self, *, secret: str = "", statuses: tuple[int, ...] = (), hold_first: bool = False, hang: bool = False
    ) -> None:
        self.secret = secret
        self.statuses = list(statuses)
        self.hold_first = hold_first
        self.hang = hang
        self.received: list[Received] = []
        self.completed: list[str] = []
        self.processed: dict[str, Any] = {}
        self.held = threading.Event()  # set when a request is being held open
        self.release = threading.Event()  # set to let held requests end (unanswered)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/pre-departure-lists"

    def answer_next(self, *statuses: int) -> None:
        with self._lock:
            self.statuses = list(statuses)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- One request -----------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        received = Received(request.path, dict(request.headers.items()), request.rfile.read(length))
        with self._lock:
            first = not self.received
            self.received.append(received)
            status = self.statuses.pop(0) if self.statuses else 200
        if self.hang or (self.hold_first and first):
            self.held.set()
            self.release.wait(HOLD_LIMIT_SECONDS)
            request.close_connection = True
            return  # never answered, never processed
        if 200 <= status < 300 and self.secret and not valid_signature(self.secret, received.headers, received.body):
            status = 401
        if 200 <= status < 300:
            with self._lock:
                self.completed.append(received.key)
                self.processed.setdefault(received.key, received.json())
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in test output
                return

        return Handler
