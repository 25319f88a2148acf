"""A real ``traceapp serve`` on 127.0.0.1 for tests that talk to it from outside (the browser,
the scanner client): started, waited for, stopped, and started again on the same port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_SECONDS = 60.0  # a loaded CI host can take half a minute to import and build the app


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(port: int, workers: int = 1) -> list[str]:
    """``traceapp serve`` from next to this interpreter (CI runs from another virtualenv)."""
    script = Path(sys.executable).with_name("traceapp")
    fallback = [sys.executable, "-c", "from traceapp.cli import main; main()"]
    launcher = [str(script)] if script.exists() else fallback
    return [*launcher, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass
class Server:
    """A traceapp server on a fixed port that can be stopped and started again."""

    port: int
    database_url: str
    log: Path
    secret: str
    public_base_url: str | None = None
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start serving and wait until the home page answers."""
        env = {
            **os.environ,
            "TRACEAPP_DATABASE_URL": self.database_url,
            "TRACEAPP_SECRET_KEY": self.secret,
            "TRACEAPP_PUBLIC_BASE_URL": self.public_base_url or self.url,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                serve_command(self.port, self.workers),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if not self.running:
                pytest.fail(f"traceapp serve exited:\n{self.log_tail()}", pytrace=False)
            if answers(self.url + "/"):
                return
            time.sleep(0.1)
        pytest.fail(
            f"traceapp serve did not answer within {STARTUP_SECONDS:.0f} s:\n{self.log_tail()}", pytrace=False
        )

    def stop(self) -> None:
        """Stop serving (SIGTERM, then SIGKILL after 10 s); the port is free afterwards."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
