"""Every admin action of every registered ModelAdmin, as support staff (DESIGN 1, 9).

Support staff work the receipt queue and read the rest: the only actions offered to them are the
queue's. Every other action (refunds, reprocessing, corrections, deletions) is neither offered nor
executable: a POST of it changes nothing.
"""

import hashlib

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import helpers
from django.core import serializers
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from orders.models import WebhookEvent
from orders.receipts.services import request_receipt
from tests.factories import (
    ActivationCodeFactory,
    DeviceFactory,
    LicenseEventFactory,
    LicenseFactory,
    OrderFactory,
    PaymentFactory,
    PriceFactory,
    RenewalPathFactory,
)
from tests.helpers.receipts import support_agent

pytestmark = pytest.mark.django_db

# What support staff may do, by model: the receipt queue's actions and nothing else.
SUPPORT_ACTIONS = {"receipts.receipt": {"issue_selected", "reissue_selected", "decline_selected"}}


@pytest.fixture
def agent():
    return support_agent()


@pytest.fixture
def rows():
    """One row of every registered model, so every action has something to act on."""
    license = LicenseFactory()
    order = OrderFactory(
        license=license, customer=license.owner, status="fulfilled", paid_at=timezone.now()
    )
    PaymentFactory(order=order, status="succeeded", stripe_payment_intent="pi_admin_walk")
    receipt = request_receipt(
        order=order, customer=order.customer, addressee="山田 花子", proviso="更新代として"
    )
    DeviceFactory(license=license)
    ActivationCodeFactory(product=license.product)
    LicenseEventFactory(license=license)
    PriceFactory(product=license.product)
    RenewalPathFactory(from_product=license.product)
    WebhookEvent.objects.create(
        stripe_id="evt_walk", type="payment_intent.succeeded", payload={"id": "evt_walk"}
    )
    return {"receipt": receipt}


def label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def every_model_admin():
    return sorted(admin.site._registry.items(), key=lambda item: label(item[0]))


def declared_actions(model_admin) -> set[str]:
    """Every action the ModelAdmin knows, whoever asks (the site's delete_selected included)."""
    names = {name for _func, name, _desc in model_admin._get_base_actions()}
    return names


def database_state() -> str:
    """A fingerprint of every row the shop stores (what an action could change)."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in {"licenses", "orders", "receipts", "auth"}:
            rows = model._default_manager.order_by("pk")
            digest.update(serializers.serialize("json", rows).encode())
    return digest.hexdigest()


def test_every_action_declares_a_permission():
    """An action without ``permissions`` is offered to anyone who may view the list."""
    for model, model_admin in every_model_admin():
        for func, name, _desc in model_admin._get_base_actions():
            assert getattr(func, "allowed_permissions", None), f"{label(model)}: {name}"


def test_support_staff_are_offered_exactly_the_receipt_queue_actions(agent, rows):
    request = RequestFactory().get("/admin/")
    request.user = agent
    offered = {}
    for model, model_admin in every_model_admin():
        actions = set(model_admin.get_actions(request))
        if actions:
            offered[label(model)] = actions
    assert offered == SUPPORT_ACTIONS


def test_support_staff_cannot_execute_any_other_action(client, agent, rows):
    """POST every action of every changelist as support staff: refused, nothing changed."""
    client.force_login(agent)
    tried = 0
    for model, model_admin in every_model_admin():
        allowed = SUPPORT_ACTIONS.get(label(model), set())
        pks = list(model._default_manager.values_list("pk", flat=True)[:5])
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for action in sorted(declared_actions(model_admin) - allowed):
            before = database_state()
            response = client.post(
                url,
                {
                    "action": action,
                    helpers.ACTION_CHECKBOX_NAME: pks,
                    "apply": "yes",
                    "post": "yes",
                    "new_expires_on": "2030-01-01",
                    "reason": "walk",
                },
            )
            assert response.status_code in (200, 302, 403), (label(model), action)
            assert database_state() == before, f"{label(model)}: {action} changed data"
            tried += 1
    assert tried >= 6  # refund, reprocess ×2, correct expiry, and the site's deletes
