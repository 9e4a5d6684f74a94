"""System checks of the deployment (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

# Caches each process (or machine) keeps for itself: throttles counted there split across web
# processes, so with gunicorn × 4 every limit is four times looser.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


@register(Tags.caches, Tags.security, deploy=True)
def shared_cache_for_throttles(app_configs, **kwargs) -> list[Warning]:
    """shop.W001: sign-in, activation-code, sign-up and reset throttles need one shared cache."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Warning(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between web "
            "processes: sign-in and activation-code throttles are counted per process and are "
            "as many times looser as there are processes.",
            hint="Set CACHE_URL to a shared cache, e.g. redis://redis:6379/1.",
            id="shop.W001",
        )
    ]
