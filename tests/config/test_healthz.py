"""``/healthz``: database and broker reachability as JSON (DESIGN 12)."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    # A real connection attempt to a closed port on this machine: nothing is mocked.
    # Celery lets the CELERY_BROKER_URL variable win over its configuration: the variable is
    # enough. Patching ``celery_app.conf.broker_url`` as well outlived the test: monkeypatch
    # restored it on Celery's pending configuration, not on the one built from it.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


def test_healthz_answers_get_only(client):
    assert client.post("/healthz").status_code == 405
