"""The reminder tasks, defined beside the services they run; imported here for autodiscovery."""

from .services import queue_reminder_batch, run_reminder_sweep, send_expiry_reminder

__all__ = ["queue_reminder_batch", "run_reminder_sweep", "send_expiry_reminder"]
