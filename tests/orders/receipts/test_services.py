"""Receipts on request (K9, DESIGN 7, 9): customers ask, support staff issue, owners download."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import SentMail
from orders.receipts import selectors as receipt_selectors
from orders.receipts import services as receipts
from orders.receipts.models import Receipt, ReceiptEvent
from orders.receipts.services import render_receipt, sweep_receipts
from tests.factories import OrderFactory, UserFactory
from tests.helpers.orders import paid_order
from tests.helpers.receipts import (
    requested,
    support_agent,
    worker_runs_tasks,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer):
    return paid_order(customer=customer, license__product__name_ja="まもり クラウド")


def issued(order):
    receipt = Receipt.objects.filter(order=order).first() or requested(order)
    with worker_runs_tasks():
        receipts.issue_receipt(receipt=receipt, staff=support_agent())
    receipt.refresh_from_db()
    return receipt


def request_url(order):
    return reverse("receipts:request", args=[order.number])


# --- Requesting ------------------------------------------------------------------------------------


def test_receipt_page_offers_the_request_form_with_name_and_renewal_as_defaults(
    customer_client, order
):
    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()

    assert "領収書の発行を申し込む" in page
    assert 'value="山田 花子"' in page
    assert 'value="まもり クラウド 1年 更新ライセンス代として"' in page


def test_k9_customer_requests_a_receipt_and_returns_to_the_order_page(customer_client, order):
    response = customer_client.post(
        request_url(order),
        {
            "addressee": "株式会社まもり商事",
            "proviso": "ソフトウェア代として",
            "next": "/orders/x/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/orders/x/"
    receipt = Receipt.objects.get(order=order)
    assert (receipt.state, receipt.addressee, receipt.proviso) == (
        "requested",
        "株式会社まもり商事",
        "ソフトウェア代として",
    )
    assert receipt.number is None
    event = receipt.events.get()
    assert (event.kind, event.actor) == ("requested", order.customer)
    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()
    assert "領収書のお申し込みを受け付けました" in page
    assert "株式会社まもり商事 様" in page
    assert "領収書の発行を申し込む" not in page


def test_an_outside_next_address_is_not_followed(customer_client, order):
    response = customer_client.post(
        request_url(order),
        {"addressee": "山田 花子", "proviso": "更新代として", "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("receipts:detail", args=[order.number])


def test_fulfilled_orders_can_get_a_receipt_too(customer):
    order = paid_order(customer=customer, status="fulfilled")

    assert requested(order).state == "requested"


@pytest.mark.parametrize(
    "status", ["draft", "awaiting_payment", "requires_action", "payment_failed"]
)
def test_unpaid_orders_cannot_get_a_receipt_yet(customer_client, customer, status):
    order = OrderFactory(customer=customer, status=status)

    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()
    assert "お支払いの完了後に領収書をお申し込みいただけます" in page
    assert "領収書の発行を申し込む" not in page
    customer_client.post(request_url(order), {"addressee": "山田 花子", "proviso": "代金として"})
    assert not Receipt.objects.exists()


def test_refunded_orders_are_refused_with_the_reason(customer_client, customer):
    order = paid_order(customer=customer, status="refunded")

    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()
    assert "返金済みのため、領収書は発行できません" in page
    assert "領収書の発行を申し込む" not in page

    response = customer_client.post(
        request_url(order), {"addressee": "山田 花子", "proviso": "代金として"}, follow=True
    )
    assert "返金済みのため、領収書は発行できません" in response.content.decode()
    assert not Receipt.objects.exists()
    with pytest.raises(receipts.ReceiptError, match="返金済み"):
        requested(order)


def test_one_open_request_per_order(order):
    requested(order)

    with pytest.raises(receipts.ReceiptError, match="すでに領収書をお申し込みいただいています"):
        requested(order, addressee="別の宛名")
    assert Receipt.objects.filter(order=order).count() == 1


def test_the_database_refuses_a_second_open_request(order):
    first = requested(order)

    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.create(
            order=order, addressee="x", proviso="y", requested_by=first.requested_by
        )


def test_a_double_submit_makes_one_request_and_says_so(customer_client, order):
    data = {"addressee": "山田 花子", "proviso": "更新代として"}
    customer_client.post(request_url(order), data)
    response = customer_client.post(request_url(order), data, follow=True)

    assert Receipt.objects.filter(order=order).count() == 1
    assert "すでに領収書をお申し込みいただいています" in response.content.decode()


def test_no_second_request_once_a_receipt_is_issued(order):
    issued(order)

    with pytest.raises(receipts.ReceiptError, match="発行済み"):
        requested(order)


def test_after_a_decline_the_customer_may_ask_again(customer_client, order):
    receipts.decline_receipt(
        receipt=requested(order), staff=support_agent(), reason="宛名が読み取れません。"
    )

    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()
    assert "宛名が読み取れません。" in page
    assert "領収書の発行を申し込む" in page
    assert requested(order, addressee="山田 花子").state == "requested"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("addressee", "山" * 41, "40文字以内"),
        ("proviso", "代" * 61, "60文字以内"),
        ("addressee", "山田\n花子", "改行や制御文字"),
        ("addressee", "山田\u200b花子", "改行や制御文字"),
        ("proviso", "更新代\x1bとして", "改行や制御文字"),
        ("proviso", "更新代\tとして", "改行や制御文字"),
        ("proviso", "更新代\u202eとして", "改行や制御文字"),
        ("addressee", "😀 商事", "領収書に印字できません"),
        ("addressee", "  ", "必須"),
        ("addressee", "様", "必須"),
    ],
)
def test_bad_addressee_or_proviso_is_refused_beside_the_field(
    customer_client, order, field, value, message
):
    data = {"addressee": "山田 花子", "proviso": "更新代として", field: value}

    response = customer_client.post(request_url(order), data)

    assert response.status_code == 200
    assert message in str(response.context["receipt_form"].errors[field])
    assert message in response.content.decode()
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("value", ["김철수 님", "محمد علي", "สมชาย", "राम शर्मा", "山田 花子 😀"])
def test_receipt_names_the_pdf_cannot_print_are_refused_naming_the_characters(
    customer_client, order, value
):
    """Hangul, Arabic, Thai, Devanagari, emoji: the receipt's CID fonts have no glyphs for them
    (they printed as empty boxes). The message names each one."""
    response = customer_client.post(request_url(order), {"addressee": value, "proviso": "更新代"})

    assert response.status_code == 200
    errors = str(response.context["receipt_form"].errors["addressee"])
    assert "領収書に印字できません" in errors
    for char in {ch for ch in value if not ch.isspace() and ch not in "山田花子"}:
        assert f"U+{ord(char):04X}" in errors, char
    assert not Receipt.objects.exists()


@pytest.mark.parametrize(
    "value", ["髙橋 﨑子", "Müller GmbH", "株式会社ＡＢＣ", "①商事", "Ωメガ №1"]
)
def test_names_the_receipt_fonts_can_draw_are_accepted(order, value):
    assert requested(order, addressee=value).state == "requested"


def test_invalid_utf8_in_a_receipt_request_is_a_form_error_not_replacement_characters(
    customer_client, order
):
    """Bytes that are not UTF-8 decode to U+FFFD; they are refused, never stored as such."""
    url = request_url(order)
    addressee = b"%E5%B1%B1%FF%FE"  # 山, then two bytes that are no UTF-8
    response = customer_client.generic(
        "POST",
        url,
        b"addressee=" + addressee + b"&proviso=%E6%9B%B4%E6%96%B0",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "正しく読み取れませんでした" in str(response.context["receipt_form"].errors["addressee"])

    boundary = "fuzzboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="addressee"\r\n\r\n'.encode()
        + b"\xe5\xb1\xb1\xff\xfe"
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="proviso"\r\n\r\n'.encode()
        + "更新代".encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = customer_client.generic(
        "POST", url, body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200
    assert "正しく読み取れませんでした" in str(response.context["receipt_form"].errors["addressee"])
    assert not Receipt.objects.exists()


def test_after_an_error_the_form_still_returns_to_the_order_page(customer_client, order):
    data = {"addressee": "山田\n花子", "proviso": "更新代として", "next": "/orders/x/"}

    page = customer_client.post(request_url(order), data).content.decode()

    assert 'name="next" value="/orders/x/"' in page
    data["addressee"] = "山田 花子"
    assert customer_client.post(request_url(order), data)["Location"] == "/orders/x/"


def test_services_refuse_bad_text_too(order):
    with pytest.raises(receipts.ReceiptError):
        requested(order, addressee="山田\r\n花子")
    assert not Receipt.objects.exists()


def test_typed_text_is_normalised_and_a_typed_honorific_is_not_printed_twice(order):
    receipt = requested(order, addressee="  ｶﾌﾞｼｷｶﾞｲｼｬ　ＡＢＣ   御中 ", proviso="ソフト　代")

    assert receipt.addressee == "カブシキガイシャ ABC"
    assert receipt.proviso == "ソフト 代"


def test_a_customer_cannot_request_on_someone_elses_order(client, other_customer, order):
    client.force_login(other_customer)

    response = client.post(request_url(order), {"addressee": "他人", "proviso": "代金として"})

    assert response.status_code == 404
    assert client.get(reverse("receipts:detail", args=[order.number])).status_code == 404
    assert not Receipt.objects.exists()
    with pytest.raises(receipts.ReceiptError):
        receipts.request_receipt(
            order=order, customer=other_customer, addressee="他人", proviso="代金として"
        )


def test_request_needs_sign_in_and_post(customer_client, order):
    response = Client().post(request_url(order), {"addressee": "x", "proviso": "y"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert customer_client.get(request_url(order)).status_code == 405
    assert not Receipt.objects.exists()


def test_guest_orders_are_sent_to_support(order):
    guest_order = paid_order(customer=None, email="guest@example.com")

    assert "サポート" in receipt_selectors.receipt_refusal(order=guest_order)


def test_the_panel_renders_in_english_too(customer_client, order):
    page = customer_client.get(
        reverse("receipts:detail", args=[order.number]).replace("/orders/", "/en/orders/")
    ).content.decode()

    assert "Request a receipt" in page


# --- Issuing, rendering, mailing -------------------------------------------------------------------


def test_k9_support_issue_numbers_the_receipt_records_who_and_renders_then_mails(order, mailoutbox):
    receipt = requested(order)
    agent = support_agent()

    with worker_runs_tasks():
        receipts.issue_receipt(receipt=receipt, staff=agent)

    receipt.refresh_from_db()
    assert receipt.state == "issued"
    assert receipt.number.startswith("R-20") and receipt.number.endswith("-000001")
    assert (receipt.issue_count, receipt.pdf_issue_count, receipt.issued_by) == (1, 1, agent)
    assert receipt.is_downloadable
    kinds = list(receipt.events.values_list("kind", "actor"))
    assert kinds == [("requested", order.customer.pk), ("issued", agent.pk), ("rendered", None)]
    assert SentMail.objects.filter(key=receipt.events.get(kind="issued").mail_key).exists()

    [mail] = mailoutbox
    assert mail.to == [order.customer.email]
    assert "領収書" in mail.subject and order.number in mail.subject
    assert receipt.number in mail.body
    link = "http://127.0.0.1:8000" + reverse("receipts:detail", args=[order.number])
    assert link in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert link in html


def test_issue_only_queues_work_for_after_the_commit(order, django_capture_on_commit_callbacks):
    receipt = requested(order)

    with django_capture_on_commit_callbacks() as callbacks:
        receipts.issue_receipt(receipt=receipt, staff=support_agent())

    receipt.refresh_from_db()
    assert len(callbacks) == 1
    assert not receipt.pdf and not receipt.is_downloadable


def test_issuing_twice_is_refused_and_takes_no_second_number(order):
    receipt = issued(order)

    with pytest.raises(receipts.ReceiptError, match="発行できるのは"):
        receipts.issue_receipt(receipt=receipt, staff=support_agent("s2@example.com"))
    receipt.refresh_from_db()
    assert receipt.number.endswith("-000001")
    year = timezone.localdate(receipt.issued_at).year
    assert receipts.next_receipt_number(year=year).endswith("-000002")


def test_a_request_on_an_order_refunded_meanwhile_cannot_be_issued(order):
    receipt = requested(order)
    order.status = "refunded"
    order.save()

    with pytest.raises(receipts.ReceiptError, match="却下"):
        receipts.issue_receipt(receipt=receipt, staff=support_agent())
    receipt.refresh_from_db()
    assert (receipt.state, receipt.number) == ("requested", None)


def test_tasks_are_idempotent(order, mailoutbox):
    receipt = issued(order)
    name = receipt.pdf.name
    event = receipt.events.get(kind="issued")

    with worker_runs_tasks():
        render_receipt(receipt.pk)
        receipts.queue_receipt_mail(event=event)
        sweep_receipts()

    receipt.refresh_from_db()
    assert receipt.pdf.name == name
    assert receipt.events.filter(kind="rendered").count() == 1
    assert len(mailoutbox) == 1
    render_receipt(987654)  # a receipt that is gone: nothing to do


def test_the_issued_mail_waits_for_the_pdf(order, mailoutbox, django_capture_on_commit_callbacks):
    receipt = requested(order)
    with django_capture_on_commit_callbacks() as queued:
        receipts.issue_receipt(receipt=receipt, staff=support_agent())

    [render] = queued  # only the PDF's render is queued by the issue
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        render()  # the render stores the PDF, then queues the mail
    receipt.refresh_from_db()
    assert receipt.is_downloadable
    assert len(mailoutbox) == 1


def test_decline_records_who_and_mails_the_reason(order, mailoutbox):
    receipt = requested(order)
    agent = support_agent()

    with worker_runs_tasks():
        receipts.decline_receipt(
            receipt=receipt, staff=agent, reason="法人名の正式名称をご確認ください。"
        )

    receipt.refresh_from_db()
    assert (receipt.state, receipt.number) == ("declined", None)
    event = receipt.events.get(kind="declined")
    assert (event.actor, event.note) == (agent, "法人名の正式名称をご確認ください。")
    [mail] = mailoutbox
    assert "法人名の正式名称をご確認ください。" in mail.body
    assert "法人名の正式名称をご確認ください。" in mail.alternatives[0][0]
    assert mail.to == [order.customer.email]


def test_decline_needs_a_reason_and_an_open_request(order):
    receipt = requested(order)
    with pytest.raises(receipts.ReceiptError):
        receipts.decline_receipt(receipt=receipt, staff=support_agent(), reason="  ")
    issued(order)
    with pytest.raises(receipts.ReceiptError):
        receipts.decline_receipt(receipt=receipt, staff=support_agent("s2@example.com"), reason="x")


def test_mail_goes_out_in_the_language_of_the_order(customer, mailoutbox):
    order = paid_order(customer=customer, language="en")
    issued(order)

    [mail] = mailoutbox
    assert "Your receipt" in mail.subject
    assert "/en/orders/" in mail.body


def test_sweep_queues_renders_a_lost_task_left_undone(order, mailoutbox):
    receipt = requested(order)
    receipts.issue_receipt(receipt=receipt, staff=support_agent())  # its task was lost
    Receipt.objects.filter(pk=receipt.pk).update(
        last_issued_at=receipt.requested_at.replace(year=2000)
    )

    with worker_runs_tasks():
        sweep_receipts.delay()

    receipt.refresh_from_db()
    assert receipt.is_downloadable
    assert len(mailoutbox) == 1


# --- Reissuing ---------------------------------------------------------------------------------------


def test_reissue_keeps_the_number_counts_replaces_the_file_and_records_why(
    order, media, mailoutbox
):
    receipt = issued(order)
    first_file = receipt.pdf.name
    agent = support_agent("s2@example.com")

    with worker_runs_tasks():
        receipts.reissue_receipt(
            receipt=receipt, staff=agent, note="宛名の訂正", addressee="株式会社まもり商事 御中"
        )

    receipt.refresh_from_db()
    assert receipt.number.endswith("-000001")
    assert (receipt.issue_count, receipt.reissue_count, receipt.pdf_issue_count) == (2, 1, 2)
    assert receipt.addressee == "株式会社まもり商事"
    assert receipt.pdf.name != first_file
    assert not (media / first_file).exists()
    assert (media / receipt.pdf.name).exists()
    event = receipt.events.get(kind="reissued")
    assert event.actor == agent
    assert "宛名の訂正" in event.note and "山田 花子 → 株式会社まもり商事" in event.note
    assert len(mailoutbox) == 2
    assert "再発行" in mailoutbox[1].body


def test_only_issued_receipts_can_be_reissued_and_a_reason_is_needed(order):
    receipt = requested(order)
    with pytest.raises(receipts.ReceiptError):
        receipts.reissue_receipt(receipt=receipt, staff=support_agent(), note="x")
    receipt = issued(order)
    with pytest.raises(receipts.ReceiptError):
        receipts.reissue_receipt(receipt=receipt, staff=support_agent("s2@example.com"), note=" ")
    receipt.refresh_from_db()
    assert receipt.issue_count == 1


def test_a_reissue_superseded_before_its_pdf_sends_one_mail(order, mailoutbox):
    receipt = issued(order)
    agent = support_agent("s2@example.com")
    with worker_runs_tasks():
        receipts.reissue_receipt(receipt=receipt, staff=agent, note="first")  # render lost
        receipts.reissue_receipt(receipt=receipt, staff=agent, note="second")

    receipt.refresh_from_db()
    assert receipt.issue_count == 3
    assert len(mailoutbox) == 2  # the issue, then the latest reissue only
    mailed = [
        event.note
        for event in receipt.events.filter(kind="reissued")
        if SentMail.objects.filter(key=event.mail_key).exists()
    ]
    assert mailed == ["second"]


def test_panel_shows_the_reissue_and_the_download(customer_client, order):
    receipt = issued(order)
    with worker_runs_tasks():
        receipts.reissue_receipt(receipt=receipt, staff=support_agent("s2@example.com"), note="x")

    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()
    assert receipt.number in page
    assert "再発行 (1回目)" in page
    assert reverse("receipts:download", args=[order.number]) in page


def test_while_the_pdf_is_rendered_the_panel_says_so(customer_client, order):
    receipts.issue_receipt(receipt=requested(order), staff=support_agent())

    page = customer_client.get(reverse("receipts:detail", args=[order.number])).content.decode()
    assert "PDFを準備しています" in page
    assert reverse("receipts:download", args=[order.number]) not in page


# --- Downloading (DESIGN 9: owner and staff only) -------------------------------------------------


def download_url(order):
    return reverse("receipts:download", args=[order.number])


def test_owner_downloads_the_pdf_with_a_sensible_file_name(customer_client, order):
    receipt = issued(order)

    response = customer_client.get(download_url(order))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{receipt.number}.pdf"' in response["Content-Disposition"]
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_another_customer_gets_404(client, other_customer, order):
    issued(order)
    client.force_login(other_customer)

    assert client.get(download_url(order)).status_code == 404


def test_anonymous_visitor_gets_404(client, order):
    issued(order)

    assert client.get(download_url(order)).status_code == 404


def test_support_staff_may_download_but_a_staff_account_without_the_permission_may_not(
    client, order
):
    issued(order)
    client.force_login(support_agent("s2@example.com"))
    assert client.get(download_url(order)).status_code == 200

    client.force_login(UserFactory(email="intern@example.com", is_staff=True))
    assert client.get(download_url(order)).status_code == 404


def test_nothing_to_download_before_the_pdf_is_stored(customer_client, order):
    assert customer_client.get(download_url(order)).status_code == 404
    receipts.issue_receipt(receipt=requested(order), staff=support_agent())
    assert customer_client.get(download_url(order)).status_code == 404
    assert (
        customer_client.get(reverse("receipts:download", args=["R000000-NOPE"])).status_code == 404
    )


def test_receipt_event_kinds_that_mail_the_customer():
    assert set(ReceiptEvent.MAILED_KINDS) == {"issued", "reissued", "declined"}
