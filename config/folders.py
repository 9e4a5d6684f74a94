"""Create the local folders the embedded defaults write to (``settings.LOCAL_FOLDERS``): the
SQLite file's folder, static and media roots, the filesystem broker. Called where a process
starts (``manage.py``, ``config.wsgi``, the Celery worker and beat), not at settings import."""

from pathlib import Path

from django.conf import settings


def ensure_local_folders() -> None:
    for folder in settings.LOCAL_FOLDERS:
        Path(folder).mkdir(parents=True, exist_ok=True)
