"""Activation codes as customers type them (K4).

A code is four groups of five letters or digits joined by hyphens: ``01234-56789-ABCDE-FGHIJ``.
Customers copy them from mails and packages, so full-width characters, lower case, spaces, odd dash
characters and a code typed without hyphens are all accepted. What cannot be fixed gets a message
that says exactly what is wrong, never whether another code exists.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

GROUPS = 4
GROUP_LENGTH = 5
CODE_LENGTH = GROUPS * GROUP_LENGTH + GROUPS - 1  # 23
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Dash look-alikes that NFKC leaves alone: hyphen, non-breaking hyphen, figure dash, en and em
# dash, minus sign, and the katakana prolonged-sound mark a Japanese IME often gives for "-".
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\u30fc\uff70"
LOOKALIKES = [("2", "Z"), ("5", "S"), ("8", "B"), ("U", "V"), ("0", "O"), ("1", "I")]
_CANONICAL = re.compile(r"^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$")


class CodeFormatError(ValueError):
    """What the customer typed cannot be a code; ``str(error)`` says why."""


def normalize_code(raw: str) -> str:
    """Return the canonical form ``XXXXX-XXXXX-XXXXX-XXXXX`` or raise CodeFormatError."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join("-" if ch in _DASHES else ch for ch in text)
    text = "".join(ch for ch in text if not ch.isspace()).upper()
    if not text:
        raise CodeFormatError(_("Enter the activation code."))

    bad = sorted({ch for ch in text if ch != "-" and ch not in ALPHABET})
    if bad:
        raise CodeFormatError(
            _(
                "The activation code contains characters that cannot be part of a code: %(chars)s. "
                "Codes use only the letters A–Z and the digits 0–9, separated by hyphens."
            )
            % {"chars": " ".join(f"「{ch}」" for ch in bad)}
        )

    bare = text.replace("-", "")
    if len(bare) != GROUPS * GROUP_LENGTH:
        raise CodeFormatError(
            ngettext(
                "An activation code has 20 letters and digits (23 characters with the hyphens, "
                "e.g. 01234-56789-ABCDE-FGHIJ); you entered %(count)d letter or digit.",
                "An activation code has 20 letters and digits (23 characters with the hyphens, "
                "e.g. 01234-56789-ABCDE-FGHIJ); you entered %(count)d letters and digits.",
                len(bare),
            )
            % {"count": len(bare)}
        )

    canonical = "-".join(bare[i : i + GROUP_LENGTH] for i in range(0, len(bare), GROUP_LENGTH))
    if "-" in text and text != canonical:
        raise CodeFormatError(
            _(
                "The hyphens are in the wrong places: a code is four groups of five characters, "
                "e.g. 01234-56789-ABCDE-FGHIJ."
            )
        )
    return canonical


def lookalike_hints(typed: str) -> list[str]:
    """Hints for the easily confused characters present in what was typed."""
    present = set(unicodedata.normalize("NFKC", typed or "").upper())
    return [
        _("「%(a)s」 and 「%(b)s」 look alike: check which one your code has.") % {"a": a, "b": b}
        for a, b in LOOKALIKES
        if a in present or b in present
    ]


def generate_code() -> str:
    """A fresh random code in canonical form."""
    bare = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(bare[i : i + GROUP_LENGTH] for i in range(0, len(bare), GROUP_LENGTH))


def is_canonical(code: str) -> bool:
    return bool(_CANONICAL.match(code))
