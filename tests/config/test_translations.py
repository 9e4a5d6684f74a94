"""The Japanese catalog is complete and the committed .mo matches the .po (no gettext needed)."""

from pathlib import Path

import polib
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "config" / "locale" / "ja" / "LC_MESSAGES"


def test_every_message_has_a_japanese_translation():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_compiled_catalog_matches_the_source():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr or e.msgstr_plural.get(0)) for e in mo}
    source = {
        (e.msgctxt, e.msgid): (e.msgstr or e.msgstr_plural.get(0)) for e in po.translated_entries()
    }
    assert compiled.keys() >= source.keys()
    assert {key: compiled[key] for key in source} == source
