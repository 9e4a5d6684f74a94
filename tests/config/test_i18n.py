"""Japanese at /, English at /en/, a language switch on every page (DESIGN 12)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = ["/", "/help/", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/",
         "/legal/terms/", "/legal/privacy/", "/legal/tokushoho/"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_japanese_at_the_root(client, path):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")  # the URL decides, not the browser
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in page
    assert "ヘルプ" in page
    assert 'name="language" value="en"' in page  # the switch to English


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_english_under_en(client, path):
    response = client.get("/en" + path)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert "Help" in page
    assert "ヘルプ" not in page
    assert 'name="language" value="ja"' in page


def test_K1_help_explains_renewal_versus_version_up(client):
    ja = client.get(reverse("help")).content.decode()
    assert "バージョンアップ" in ja and "更新" in ja
    en = client.get("/en/help/").content.decode()
    assert "version-up" in en.lower() and "renewal" in en.lower()


def test_language_switch_refuses_an_unknown_language_and_foreign_next(client):
    assert client.post("/i18n/setlang/", {"language": "xx", "next": "/"}).status_code == 400
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/en/"


def test_language_switch_keeps_the_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/help/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/help/"
    response = client.post("/i18n/setlang/", {"language": "ja", "next": "/en/help/"})
    assert response["Location"] == "/help/"


def test_J2_tokushoho_page_shows_the_seller_from_settings(client, settings):
    settings.SELLER = {**settings.SELLER, "name": "テスト販売株式会社", "phone": "03-1234-5678"}
    page = client.get(reverse("legal:tokushoho")).content.decode()
    assert "テスト販売株式会社" in page
    assert "03-1234-5678" in page
    for heading in ["販売業者", "代表者", "所在地", "支払方法", "返品", "動作環境"]:
        assert heading in page


def test_language_switch_cannot_be_turned_into_an_open_redirect(client):
    response = client.post("/i18n/setlang/", {"language": "ja", "next": "/en//evil.example/x"})
    assert response["Location"] == "/"
