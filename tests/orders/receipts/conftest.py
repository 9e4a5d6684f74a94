import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Receipt PDFs go to a temporary MEDIA_ROOT; test accounts hash passwords quickly."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path
