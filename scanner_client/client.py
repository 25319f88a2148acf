"""TraceClient: the one place that talks HTTP to the traceapp server.

It owns the connection, the base URL, the bearer token and the timeouts (3 s to connect, 5 s
to read, by default). Standard library only (``http.client``): the client needs two JSON calls
and exact control over timeouts and the bytes it sends, and a gate PC should not need more.

Errors: no answer at all (refused, timed out, reset, TLS failure) raises :class:`Offline`; any
answer other than 2xx raises :class:`ClientError` with the problem+json ``detail`` and
``errors`` when the server sent them.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from scanner_client import __version__
from scanner_client.i18n import _

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
#: Extra read time a batch request gets for each event it carries (the server records them all
#: before it answers): 200 events wait up to 5 + 10 s.
READ_SECONDS_PER_EVENT = 0.05
BATCH_PATH = "/api/v1/events/batch"
#: Answers that say nothing about the scan itself, so it stays queued: a redirect (wrong
#: server URL), a bad token, a timeout or rate limit at the server, any server error.
TRANSIENT = frozenset({401, 408, 425, 429})


class Offline(Exception):
    """The server could not be reached, or it did not answer in time."""


@dataclass(eq=False)
class ClientError(Exception):
    """The server answered with an error (problem+json fields when it sent them)."""

    status: int
    detail: str
    title: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Seconds the server asked us to wait (``Retry-After`` of a 429 or 503), if it said.
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__init__(self.status, self.detail)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}".replace(" : ", ": ")

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed (the scan itself was not refused)."""
        return self.status < 400 or self.status >= 500 or self.status in TRANSIENT

    def explained(self) -> str:
        """The detail followed by each field error, for the operator."""
        parts = [self.detail] + [f"{e.get('field', '?')}: {e.get('message', '')}" for e in self.errors]
        return _("; ").join(part for part in parts if part)


def _timed(base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
    """A connection class that connects within one timeout and then reads within another."""

    class Timed(base):  # type: ignore[valid-type, misc]
        read_timeout = READ_TIMEOUT

        def connect(self) -> None:
            super().connect()
            self.sock.settimeout(self.read_timeout)

    return Timed


_HTTP = _timed(http.client.HTTPConnection)
_HTTPS = _timed(http.client.HTTPSConnection)


def _language(env: dict[str, str]) -> str | None:
    """An Accept-Language value from the POSIX locale variables (``zh_CN.UTF-8`` → ``zh-CN``)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").split(".")[0].split("@")[0]
        if value and value not in ("C", "POSIX"):
            return value.replace("_", "-")
    return None


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (an HTTP date is not worth parsing here: the backoff rules)."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def problem_of(status: int, document: Any, reason: str = "") -> ClientError:
    """The ClientError for a problem+json ``document`` (a dict), e.g. one outcome of a batch."""
    if not isinstance(document, dict):
        return ClientError(status, reason or f"HTTP {status}", reason)
    errors = document.get("errors") if isinstance(document.get("errors"), list) else []
    return ClientError(
        status, str(document.get("detail") or reason), str(document.get("title") or reason), errors
    )


def _problem(status: int, reason: str, content_type: str, data: bytes) -> ClientError:
    document: Any = None
    if "json" in content_type:
        try:
            document = json.loads(data)
        except ValueError:
            document = None
    if not isinstance(document, dict):
        text = data.decode("utf-8", "replace").strip()[:200]
        return ClientError(status, text or reason, reason)
    return problem_of(status, document, reason)


class TraceClient:
    """An authenticated JSON client for one traceapp server; close it (or use ``with``)."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        language: str | None = None,
    ) -> None:
        parts = urlsplit(server)
        self.server = server.rstrip("/")
        self._prefix = parts.path.rstrip("/")
        connection_class = _HTTPS if parts.scheme == "https" else _HTTP
        self._connection = connection_class(parts.hostname, parts.port, timeout=connect_timeout)
        self._connection.read_timeout = read_timeout
        self._used = False
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": f"trace-scan/{__version__}",
        }
        language = language or _language(dict(os.environ))
        if language:
            self._headers["Accept-Language"] = language

    def __enter__(self) -> TraceClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a later request opens a new one)."""
        self._connection.close()

    def verify(self, code: str) -> dict[str, Any]:
        """``GET /api/v1/codes/{code}``: status, certificate, holders, journey.

        Raises ClientError (404 for an unknown code) and Offline.
        """
        return self._json("GET", f"/api/v1/codes/{quote(code, safe='')}")[1]

    def record(self, body: bytes) -> int:
        """``POST /api/v1/events`` with ``body`` exactly; the 2xx status (201 new, 200 replay).

        Raises ClientError and Offline.
        """
        return self._json("POST", "/api/v1/events", body)[0]

    def record_batch(self, bodies: list[str]) -> list[dict[str, Any]]:
        """``POST /api/v1/events/batch`` with each body exactly as a single POST would send it.

        Returns the ``results``, one per event in order (``index``, ``status``, ``problem``).
        Raises ClientError for an answer about the whole request (404 or 405 from a server
        without the batch path, 401, 413, 429, 503 ...) or one that is not a list of results,
        and Offline.
        """
        # Joined as text so that every event's bytes are those of its single POST: a replay
        # through either path is recognised by the server.
        body = ('{"events":[' + ",".join(bodies) + "]}").encode("utf-8")
        timeout = self._connection.read_timeout + READ_SECONDS_PER_EVENT * len(bodies)
        status, document = self._json("POST", BATCH_PATH, body, read_timeout=timeout)
        results = document.get("results") if isinstance(document, dict) else None
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ClientError(status, _("The server's batch answer has no list of results."), "Bad answer")
        return results

    def probe_gate_rights(self) -> None:
        """Ask the server to refuse a gate check of a code that does not exist.

        A market's or regulator's token gets 422 or 404 (the code is unknown), which is what we
        want to see; nothing is written. Raises ClientError 401 (bad token), 403 (the token's
        organisation may not record gate checks) or another status, and Offline.
        """
        body = {
            "event_id": str(uuid.uuid4()),
            "kind": "inspecting",
            "occurred_at": "2000-01-01T00:00:00+00:00",
            "trace_code": "2222222222222",
            "certificate_status": "valid",
            "result": "rejected",
            "quantity": "1",
            "unit": "kg",
        }
        try:
            self.record(json.dumps(body).encode())
        except ClientError as error:
            if error.status in (404, 422):
                return
            raise

    def _json(
        self, method: str, path: str, body: bytes | None = None, *, read_timeout: float | None = None
    ) -> tuple[int, Any]:
        status, headers, data = self._exchange(method, self._prefix + path, body, read_timeout)
        if not 200 <= status < 300:
            error = _problem(status, headers.get("reason", ""), headers.get("content-type", ""), data)
            error.retry_after = _retry_after(headers.get("retry-after"))
            raise error
        try:
            return status, json.loads(data) if data else None
        except ValueError as error:
            raise ClientError(status, _("The server's answer is not JSON."), "Bad answer") from error

    def _exchange(
        self, method: str, path: str, body: bytes | None, read_timeout: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; retry once on a fresh connection if a reused one had gone stale.

        Retrying is safe for every call: a GET reads, and each event a POST carries has its
        client event_id. ``read_timeout`` replaces the usual one for this request only.
        """
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        usual = self._connection.read_timeout
        self._connection.read_timeout = read_timeout or usual
        try:
            return self._send(method, path, body, headers)
        finally:
            self._connection.read_timeout = usual
            if self._connection.sock is not None:
                self._connection.sock.settimeout(usual)

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            reused = self._used
            if self._connection.sock is not None:
                self._connection.sock.settimeout(self._connection.read_timeout)
            try:
                self._connection.request(method, path, body=body, headers=headers)
                response = self._connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._connection.close()
                self._used = False
                if reused and attempt == 1 and not isinstance(error, (socket.timeout, TimeoutError)):
                    continue
                raise Offline(_describe(error)) from error
            self._used = not response.will_close
            if response.will_close:
                self._connection.close()
            found = {key.lower(): value for key, value in response.getheaders()}
            return response.status, {**found, "reason": response.reason}, data
        raise Offline(_("no answer"))  # pragma: no cover - the loop returns or raises


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return _("connection refused (is the server running?)")
    if isinstance(error, (socket.timeout, TimeoutError)):
        return _("no answer in time")
    if isinstance(error, socket.gaierror):
        return _("unknown host ({problem})").format(problem=error.strerror)
    return str(error) or type(error).__name__
