"""CPU time the rate limit adds to a stored public page, measured in-process (no server).

Calls the app's WSGI pipeline (front layer first) for ``GET /t/<code>`` N times, each from one of
1,000 client addresses, with rate limiting off, on the default SQLite storage, and on Redis if
``--redis URL`` is given; prints CPU µs per request (process time, so a busy host does not
change it much) and the ratio to "off".

    python bench/throttle_cost.py [--requests 5000] [--redis redis://127.0.0.1:6379/5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from signin_guessing import OUT, seed  # noqa: E402


def cpu_per_request(url: str, code: str, requests: int, **settings: object) -> float:
    from traceapp import create_app

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_PUBLIC": "1000000 per minute", **settings}
    )
    if app.config["RATELIMIT_ENABLED"]:
        app.extensions["traceapp.throttle"].limiter.storage.reset()
    wsgi = app.wsgi_app
    statuses: dict[str, int] = {}

    def start_response(status: str, _headers: list[tuple[str, str]]) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    def one(n: int) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": f"/t/{code}",
            "QUERY_STRING": "",
            "REMOTE_ADDR": f"198.51.{n % 4}.{n % 250}",
            "HTTP_ACCEPT_ENCODING": "gzip",
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
        }
        b"".join(wsgi(environ, start_response))

    for n in range(200):  # warm-up
        one(n)
    began = time.process_time()
    for n in range(requests):
        one(n)
    spent = time.process_time() - began
    assert list(statuses) == ["200 OK"], statuses
    return spent / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    tag = secrets.token_hex(4)
    url = f"sqlite:///{OUT / f'throttle-{tag}.sqlite3'}"
    os.environ.setdefault("TRACEAPP_JOBS_URL", f"sqlite:///{OUT / f'throttle-jobs-{tag}.db'}")
    code = seed(url)
    runs = {"off": {"RATELIMIT_ENABLED": False}}
    runs["SQLite file"] = {"RATELIMIT_STORAGE_URL": f"sqlite:///{OUT / f'throttle-limits-{tag}.sqlite3'}"}
    if args.redis:
        runs["Redis"] = {"RATELIMIT_STORAGE_URL": args.redis}
    results = {name: cpu_per_request(url, code, args.requests, **settings) for name, settings in runs.items()}
    for name, micros in results.items():
        print(f"{name:<12} {micros:8.1f} µs CPU/request  {micros / results['off']:.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}")


if __name__ == "__main__":
    main()
