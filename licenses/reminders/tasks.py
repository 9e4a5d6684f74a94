"""The reminder tasks, defined beside the services they run; imported here for autodiscovery."""

from .services import run_reminder_sweep, send_expiry_reminder

__all__ = ["run_reminder_sweep", "send_expiry_reminder"]
