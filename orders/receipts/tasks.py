"""The receipt tasks, defined beside the services they run; imported here for autodiscovery."""

from .services import render_receipt, sweep_receipts

__all__ = ["render_receipt", "sweep_receipts"]
