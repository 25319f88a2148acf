"""Run the app under gunicorn from our own CLI (``traceapp serve`` and ``traceapp demo``)."""

from __future__ import annotations

import errno
import gc
import socket
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn with the app built in each worker: no engine is shared across a fork."""

    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from traceapp import create_app

        app = create_app()
        gc.freeze()  # start-up objects live as long as the worker; keep them out of full GCs
        return app


class CannotListen(Exception):
    """The address cannot be listened on; the message is one line for the person who typed it."""


def require_free(host: str, port: int) -> None:
    """Raise CannotListen unless ``host:port`` can be listened on right now (as gunicorn binds
    it), so a busy port is said in one line before anything starts, not in gunicorn's retries."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotListen(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from exc
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CannotListen(
                    f"port {port} on {host} is already in use (another traceapp?): stop it, "
                    f"or choose another port with --port"
                ) from exc
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def run_gunicorn(*, host: str, port: int, workers: int) -> None:
    """Serve until interrupted (no ``--preload``, see STYLE rule 9)."""
    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "accesslog": "-", "preload_app": False}).run()
