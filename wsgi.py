"""Gunicorn entry point: ``gunicorn wsgi:app``."""

from traceapp import create_app

app = create_app()
