"""Telephone numbers as people type them, to E.164: the one normaliser of the project, used by
the legacy export's reader and by the compatibility layer's contact details alike.

Numbers are French in the vast majority (`06…`, `06 12 …`, `+336…`, `00336…`), so those are
normalised here by the national numbering plan, in a microsecond: a million-row export cannot
afford a general-purpose parser on every row. Overseas departments share the national `0`
prefix but not the country code (0690… is +590 690…, ARCEP numbering plan), so their prefixes
are mapped. Anything else written in international form (`+32…`, `0032…`) goes to the
`phonenumbers` library, which knows every country's plan.
"""

from __future__ import annotations

import phonenumbers

_SEPARATORS = str.maketrans("", "", " .-()/\u00a0\t")

# National prefixes (after the leading 0) of the overseas departments and their E.164 codes.
_OVERSEAS = {
    "590": "590", "690": "590", "691": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "594": "594", "694": "594",  # Guyane
    "596": "596", "696": "596", "697": "596",  # Martinique
    "262": "262", "263": "262", "692": "262", "693": "262",  # La Réunion
    "269": "262", "639": "262",  # Mayotte
}
# Mobile prefixes of the overseas departments, after their country code.
_OVERSEAS_MOBILES = (("+590", ("690", "691")), ("+594", ("694",)),
                     ("+596", ("696", "697")), ("+262", ("692", "693", "639")))


def to_e164(raw: str) -> str | None:
    """`+<country><number>` or None when the text is not a telephone number."""
    text = raw.translate(_SEPARATORS)
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+33"):
        national = text[3:]
        if national.startswith("0"):  # "+33 (0)6 …", a common way of writing it
            national = national[1:]
        return _french(national)
    if text.startswith("+"):
        return _international(text)
    if len(text) == 10 and text.startswith("0") and text.isdigit():
        return _french(text[1:])
    return None


def _french(national: str) -> str | None:
    """Nine digits after the trunk prefix, first digit 1 to 9."""
    # isascii: str.isdigit() also accepts other scripts' digits and superscripts ("²").
    if len(national) != 9 or not (national.isascii() and national.isdigit()) \
            or national[0] == "0":
        return None
    overseas = _OVERSEAS.get(national[:3])
    if overseas is not None:
        return f"+{overseas}{national}"
    return f"+33{national}"


def _international(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Can receive an SMS: French mobiles (+336, +337) and overseas mobiles; other countries'
    numbers are asked of `phonenumbers`."""
    if e164.startswith("+33"):
        return e164[3] in "67"
    for code, prefixes in _OVERSEAS_MOBILES:
        if e164.startswith(code):
            return e164[len(code):].startswith(prefixes)
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    return kind in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalise_mobile(raw: str) -> str | None:
    """A mobile number as typed, in E.164, or None when it is not one (unreadable, or a
    landline, which cannot receive an SMS)."""
    number = to_e164(raw)
    return number if number is not None and is_mobile(number) else None
