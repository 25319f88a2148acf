"""The bare baseline for bench/public_page.py: a Flask app that only answers "hello".

Served by exactly the same gunicorn command line as traceapp (``gunicorn hello_app:app`` from
this folder). It routes ``/t/<code>`` too, so the load generator sends the very same requests to
both apps and the ratio measures only what traceapp does past Flask's routing.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"


@app.get("/t/<code>")
def hello_code(code: str) -> str:
    return "hello"
