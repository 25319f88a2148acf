"""Notifications: what happened to an organisation's batches (rejected at a gate, recalled,
disputed, received short), in an in-app inbox and delivered by e-mail, SMS and webhook
through the job queue (``tasks``), once each, retried, never lost."""
