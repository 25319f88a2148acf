"""trace-scan: the market-gate client of traceapp.

It reads scans (a keyboard-wedge scanner on stdin, or photos), verifies each code over the
public HTTP API, shows ACCEPT or REJECT, and records the gate inspection. Every scan is written
to a local SQLite outbox before any network I/O, so a dead network or a power cut loses
nothing: ``trace-scan sync`` sends what is left. It never imports traceapp.
"""

__version__ = "0.1.0"
