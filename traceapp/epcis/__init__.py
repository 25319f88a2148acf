"""EPCIS 2.0: documents built from our events (later: capture, query, subscriptions)."""
