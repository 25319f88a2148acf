"""The page a scanned QR opens: read-only, no JavaScript, no login."""
