"""The receipt queue in admin (K9, DESIGN 1): support staff issue, reissue and decline, and change
nothing else; every action is recorded with who did it."""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from orders.models import Order
from orders.receipts import services as receipts
from orders.receipts.models import Receipt, ReceiptEvent
from tests.factories import LicenseFactory, UserFactory
from tests.helpers.orders import paid_order
from tests.helpers.receipts import (
    requested,
    support_agent,
    worker_runs_tasks,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:receipts_receipt_changelist"


@pytest.fixture
def agent():
    return support_agent()


@pytest.fixture
def support_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def queue(agent):
    """One receipt in each state."""
    open_request = requested(paid_order())
    to_issue = requested(paid_order())
    with worker_runs_tasks():
        receipts.issue_receipt(receipt=to_issue, staff=agent)
    to_decline = requested(paid_order())
    receipts.decline_receipt(receipt=to_decline, staff=agent, reason="宛名が空欄です。")
    return {"requested": open_request, "issued": to_issue, "declined": to_decline}


def run_action(client, action, receipts_, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [r.pk for r in receipts_], **data},
    )


# --- Pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "state__exact=requested", "state__exact=issued",
                                   "state__exact=declined", "q=R-20"])  # fmt: skip
def test_queue_filters_by_state_and_searches(support_client, queue, query):
    response = support_client.get(reverse(CHANGELIST) + "?" + query)

    assert response.status_code == 200
    shown = {receipt.pk for receipt in response.context["cl"].result_list}
    expected = {
        "": {r.pk for r in queue.values()},
        "state__exact=requested": {queue["requested"].pk},
        "state__exact=issued": {queue["issued"].pk},
        "state__exact=declined": {queue["declined"].pk},
        "q=R-20": {queue["issued"].pk},
    }[query]
    assert shown == expected


@pytest.mark.parametrize("state", ["requested", "issued", "declined"])
def test_change_pages_load_read_only_with_the_audit_trail(support_client, queue, state):
    receipt = queue[state]

    response = support_client.get(reverse("admin:receipts_receipt_change", args=[receipt.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert receipt.order.number in page
    assert 'name="_save"' not in page
    for event in receipt.events.filter(actor__isnull=False).select_related("actor"):
        assert str(event.actor) in page  # who did what
    if state == "issued":
        assert reverse("receipts:download", args=[receipt.order.number]) in page


def test_audit_log_pages_load(support_client, queue):
    assert support_client.get(reverse("admin:receipts_receiptevent_changelist")).status_code == 200
    event = ReceiptEvent.objects.filter(kind="issued").get()
    url = reverse("admin:receipts_receiptevent_change", args=[event.pk])
    assert support_client.get(url).status_code == 200


# --- Actions ----------------------------------------------------------------------------------------


def test_k9_issue_action_issues_and_records_the_agent(support_client, agent, queue):
    receipt = queue["requested"]

    with worker_runs_tasks():
        response = run_action(support_client, "issue_selected", [receipt])

    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.state == "issued" and receipt.issued_by == agent
    assert receipt.events.get(kind="issued").actor == agent
    assert receipt.is_downloadable


def test_issue_action_reports_receipts_it_cannot_issue(support_client, queue):
    response = run_action(support_client, "issue_selected", [queue["issued"], queue["declined"]])

    assert response.status_code == 302
    page = support_client.get(reverse(CHANGELIST)).content.decode()
    assert "発行できるのは申し込み中の領収書だけです" in page


def test_decline_asks_for_a_reason_then_declines_and_mails_it(
    support_client, agent, queue, mailoutbox
):
    receipt = queue["requested"]

    page = run_action(support_client, "decline_selected", [receipt])
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    receipt.refresh_from_db()
    assert receipt.state == "requested"

    page = run_action(support_client, "decline_selected", [receipt], apply="yes", reason="")
    assert page.status_code == 200  # the reason is required
    receipt.refresh_from_db()
    assert receipt.state == "requested"

    with worker_runs_tasks():
        response = run_action(
            support_client,
            "decline_selected",
            [receipt],
            apply="yes",
            reason="ご注文者様と宛名が異なるため、ご本人確認が必要です。",
        )
    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.state == "declined"
    event = receipt.events.get(kind="declined")
    assert (event.actor, event.note) == (
        agent,
        "ご注文者様と宛名が異なるため、ご本人確認が必要です。",
    )
    assert "ご本人確認が必要です" in mailoutbox[-1].body
    assert mailoutbox[-1].to == [receipt.order.contact_email]


def test_decline_and_reissue_leave_receipts_in_other_states_alone(support_client, queue):
    response = run_action(support_client, "decline_selected", [queue["issued"]])

    assert response.status_code == 302  # nothing to decline: straight back to the queue
    page = support_client.get(reverse(CHANGELIST)).content.decode()
    assert "1件の領収書は「申し込み」の状態ではないため、そのままにしました。" in page
    page = run_action(
        support_client, "reissue_selected", [queue["issued"], queue["requested"]]
    ).content.decode()
    assert queue["issued"].order.number in page
    assert queue["requested"].order.number not in page
    assert 'name="addressee"' in page  # one receipt left: it may be corrected


def test_reissue_of_one_receipt_may_correct_it(support_client, agent, queue):
    receipt = queue["issued"]

    page = run_action(support_client, "reissue_selected", [receipt]).content.decode()
    assert 'name="note"' in page
    assert 'value="山田 花子"' in page  # the current addressee, ready to correct

    with worker_runs_tasks():
        run_action(
            support_client,
            "reissue_selected",
            [receipt],
            apply="yes",
            note="お客様のご依頼により宛名を訂正",
            addressee="株式会社まもり商事",
            proviso=receipt.proviso,
        )

    receipt.refresh_from_db()
    assert (receipt.issue_count, receipt.addressee, receipt.issued_by) == (
        2,
        "株式会社まもり商事",
        agent,
    )
    assert receipt.events.get(kind="reissued").actor == agent


def test_reissue_refuses_bad_corrections_and_changes_nothing(support_client, queue):
    receipt = queue["issued"]

    page = run_action(
        support_client,
        "reissue_selected",
        [receipt],
        apply="yes",
        note="訂正",
        addressee="山田\n花子",
        proviso=receipt.proviso,
    )

    assert page.status_code == 200
    assert "改行や制御文字" in page.content.decode()
    receipt.refresh_from_db()
    assert receipt.issue_count == 1


# --- Requests recorded by support (guest orders) ---------------------------------------------------

ADD = "admin:receipts_receipt_add"


def test_k9_support_records_a_receipt_request_for_a_guest_order_then_issues_it(
    support_client, agent, client, mailoutbox
):
    """A guest order has no account to request from: the customer asks support, who record
    the request in admin; it is issued as usual and the guest opens it from the mail's link."""
    order = paid_order(customer=None, email="guest@example.com")
    page = support_client.get(reverse(ADD)).content.decode()
    assert 'name="order"' in page and 'name="addressee"' in page and 'name="proviso"' in page

    response = support_client.post(
        reverse(ADD),
        {"order": order.number.lower(), "addressee": "株式会社ゲスト 御中", "proviso": "更新代"},
    )
    assert response.status_code == 302
    receipt = Receipt.objects.get(order=order)
    assert (receipt.state, receipt.addressee, receipt.requested_by) == (
        "requested",
        "株式会社ゲスト",
        agent,
    )
    assert receipt.events.get(kind="requested").actor == agent

    with worker_runs_tasks():
        run_action(support_client, "issue_selected", [receipt])
    receipt.refresh_from_db()
    assert receipt.is_downloadable
    message = mailoutbox[-1]
    assert message.to == ["guest@example.com"]
    link = next(word for word in message.body.split() if "?access=" in word)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path).content.decode()  # the guest, not signed in
    download = reverse("receipts:download", args=[order.number])
    assert download in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_recording_a_request_refuses_unpaid_unknown_or_already_requested_orders(
    support_client, queue
):
    unpaid = paid_order(customer=None, email="guest@example.com", status="details_entered")
    for number, expected in [
        ("R000000-NOPE", "この番号の注文はありません"),
        (unpaid.number, "お支払いの完了後に"),
        (queue["requested"].order.number, "すでに領収書をお申し込みいただいています"),
    ]:
        response = support_client.post(
            reverse(ADD), {"order": number, "addressee": "山田 花子", "proviso": "更新代"}
        )
        assert response.status_code == 200
        assert expected in response.content.decode(), number
    assert not Receipt.objects.filter(order=unpaid).exists()
    assert Receipt.objects.filter(order=queue["requested"].order).count() == 1


def test_staff_without_the_receipt_permission_cannot_record_requests(client):
    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_receipt"))
    client.force_login(viewer)
    order = paid_order(customer=None, email="guest@example.com")
    response = client.post(
        reverse(ADD), {"order": order.number, "addressee": "山田 花子", "proviso": "更新代"}
    )
    assert response.status_code == 403
    assert not Receipt.objects.exists()


# --- Permissions ------------------------------------------------------------------------------------


def test_support_staff_read_orders_and_payments_and_change_nothing(agent):
    assert agent.has_perm("orders.view_order") and agent.has_perm("orders.view_payment")
    assert agent.has_perm("receipts.view_receipt") and agent.has_perm("receipts.issue_receipt")
    for app_label, model in [
        ("orders", "order"),
        ("orders", "payment"),
        ("orders", "receipt"),
        ("licenses", "license"),
        ("licenses", "licenseevent"),
    ]:
        for action in ("add", "change", "delete"):
            assert not agent.has_perm(f"{app_label}.{action}_{model}"), (action, model)


@pytest.mark.parametrize(
    "model",
    [m for m in admin.site._registry if m._meta.app_label in {"licenses", "orders"}],
    ids=lambda m: m._meta.model_name,
)
def test_no_admin_page_lets_support_staff_change_anything(agent, model):
    request = RequestFactory().get("/admin/")
    request.user = agent
    model_admin = admin.site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_support_staff_cannot_post_changes_to_a_receipt_or_a_license(support_client, queue):
    receipt = queue["requested"]
    url = reverse("admin:receipts_receipt_change", args=[receipt.pk])

    assert support_client.post(url, {"addressee": "改ざん"}).status_code == 403
    delete = reverse("admin:receipts_receipt_delete", args=[receipt.pk])
    assert support_client.post(delete, {"post": "yes"}).status_code == 403
    license = LicenseFactory()
    license_url = reverse("admin:licenses_license_change", args=[license.pk])
    assert support_client.post(license_url, {"serial": "X"}).status_code == 403
    receipt.refresh_from_db()
    assert receipt.addressee == "山田 花子"
    assert Order.objects.filter(pk=receipt.order_id).exists()


def test_staff_without_the_receipt_permission_get_no_actions(client, queue):
    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_receipt"))
    client.force_login(viewer)

    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "issue_selected" not in page
    response = run_action(client, "issue_selected", [queue["requested"]])
    assert response.status_code in (200, 302)
    assert Receipt.objects.get(pk=queue["requested"].pk).state == "requested"


def test_customers_are_kept_out_of_the_queue(customer_client):
    response = customer_client.get(reverse(CHANGELIST))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
