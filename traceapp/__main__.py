"""``python -m traceapp ...``: the ``traceapp`` command (how ``traceapp demo`` starts its worker)."""

from traceapp.cli import main

main()
