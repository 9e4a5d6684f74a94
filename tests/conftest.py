import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from config.folders import ensure_local_folders
from tests.factories import UserFactory

pytest_plugins = [
    "tests.plugins.localstripe",
    "tests.plugins.browser",
    "tests.plugins.worker",
    "tests.plugins.stripe_contract",
]


@pytest.fixture(scope="session", autouse=True)
def _local_folders():
    """The SQLite test database and the filesystem broker live under var/ (as ``manage.py``)."""
    ensure_local_folders()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager():
    """Unit tests run tasks in-process when their transaction commits (use
    ``django_capture_on_commit_callbacks(execute=True)``); the task path with a real worker has
    its own tests (``celery_worker_process``)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _default_language():
    """Requests activate their language in the test thread; each test starts in Japanese."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def customer(db):
    return UserFactory(email="hanako@example.com")


@pytest.fixture
def other_customer(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client
