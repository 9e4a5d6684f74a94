"""The licenses app's tasks, each defined beside the service it runs; imported here so that
Celery's autodiscovery (which imports ``<app>.tasks``) registers them all."""

from .mail import send_account_mail
from .reserves import run_reserve_switch, send_reserve_mail, switch_reserve_task

__all__ = ["run_reserve_switch", "send_account_mail", "send_reserve_mail", "switch_reserve_task"]
