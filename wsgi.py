"""Gunicorn entry point: ``gunicorn wsgi:app``."""

import gc

from traceapp import create_app

app = create_app()
# What start-up made lives as long as the worker: keep it out of the cyclic collector, whose
# full collections otherwise walk ~140,000 objects (75-200 ms) in the middle of some request.
gc.freeze()
