"""Outside ends of notifications for tests: a webhook receiver on 127.0.0.1 (a real HTTP
server in a thread, the true external boundary), and the file outbox's lines."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Receiver:
    """What the receiver got (header names in lower case), and how many of the first requests
    it answers 500."""

    url: str
    fail_first: int = 0
    always_fail: bool = False
    answer: bytes = b"{}"
    #: Answer every request with a 302 to this URL (a hostile receiver's way round a guard).
    redirect_to: str | None = None
    #: Serve HTTPS with this server-side ``ssl.SSLContext`` (the URL's scheme follows).
    tls: Any = None
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def receiver(**settings: Any) -> Iterator[Receiver]:
    """An HTTP server recording each POST (headers and body)."""
    state = Receiver(url="", **settings)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append({"headers": headers, "body": body, "path": self.path})
            if state.redirect_to:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            failing = state.always_fail or len(state.requests) <= state.fail_first
            self.send_response(500 if failing else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}" if failing else state.answer)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if state.tls is not None:
        server.socket = state.tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if state.tls is not None else "http"
    state.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def outbox(path: Path) -> list[dict[str, Any]]:
    """The messages the file sender wrote, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
