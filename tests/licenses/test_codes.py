"""K4: activation codes as customers type them."""

import pytest
from django.utils import translation

from licenses.codes import CodeFormatError, generate_code, lookalike_hints, normalize_code

CANONICAL = "01234-56789-ABCDE-FGHIJ"


@pytest.mark.parametrize(
    "typed",
    [
        "01234-56789-ABCDE-FGHIJ",
        "01234-56789-abcde-fghij",  # lower case
        "０１２３４－５６７８９－ＡＢＣＤＥ－ＦＧＨＩＪ",  # full width (NFKC)
        " 01234 - 56789 - ABCDE - FGHIJ ",  # spaces
        "0123456789ABCDEFGHIJ",  # 20 characters without hyphens
        "01234ー56789ーABCDEーFGHIJ",  # the IME's prolonged-sound mark for a hyphen
        "01234\u201356789\u2013ABCDE\u2013FGHIJ",  # en dashes
    ],
)
def test_K4_accepts_the_ways_customers_type_a_code(typed):
    assert normalize_code(typed) == CANONICAL


@pytest.mark.parametrize(
    ("typed", "message_part"),
    [
        ("", "Enter the activation code"),
        ("01234-56789-ABCDE-FGHI", "you entered 19 letters and digits"),
        ("01234-56789-ABCDE-FGHIJK", "you entered 21 letters and digits"),
        ("01234-56789-ABCDE-FGH#J", "「#」"),
        ("01234-56789-ABCDE-FGHあJ", "「あ」"),
        ("0123-456789-ABCDE-FGHIJ", "hyphens are in the wrong places"),
    ],
)
def test_K4_says_exactly_what_is_wrong(typed, message_part):
    with translation.override("en"), pytest.raises(CodeFormatError) as error:
        normalize_code(typed)
    assert message_part in str(error.value)


def test_K4_hints_for_lookalike_characters_present():
    hints = lookalike_hints("22222-SSSSS-AAAAA-AAAAA")
    assert len(hints) == 2
    assert "「2」" in hints[0] and "「Z」" in hints[0]
    assert "「5」" in hints[1] and "「S」" in hints[1]
    assert lookalike_hints("AAAAA-CCCCC-DDDDD-EEEEE") == []


def test_generated_codes_are_canonical_and_different():
    first, second = generate_code(), generate_code()
    assert normalize_code(first) == first
    assert first != second
