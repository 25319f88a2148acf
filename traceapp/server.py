"""Run the app under gunicorn from our own CLI (``traceapp serve`` and ``traceapp demo``)."""

from __future__ import annotations

import gc
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


def run_gunicorn(*, host: str, port: int, workers: int) -> None:
    """Serve until interrupted (no ``--preload``, see STYLE rule 9)."""
    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "accesslog": "-", "preload_app": False}).run()
