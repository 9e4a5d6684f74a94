import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.folders import ensure_local_folders  # noqa: E402  (settings are loaded now)

ensure_local_folders()
