"""The licenses app's tasks, each defined beside the service it runs; imported here so that
Celery's autodiscovery (which imports ``<app>.tasks``) registers them all."""

from .mail import send_account_mail

__all__ = ["send_account_mail"]
