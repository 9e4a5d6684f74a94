"""Celery's autodiscovery finds the automatic-renewal tasks here."""

from .services import charge_auto_renewal, run_auto_renewal_sweep, send_renewal_notice

__all__ = ["charge_auto_renewal", "run_auto_renewal_sweep", "send_renewal_notice"]
