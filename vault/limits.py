"""One set of input limits for every way in (web forms, JSON API, commands): the
services enforce them, the forms show the same numbers."""
from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

NAME_MAX = 200  # resource names and login names (their columns' length)
ADDRESS_MAX = 255
PASSWORD_MAX = 1024
NOTES_MAX = 10_000  # notes and descriptions
REASON_MAX = 500
API_BODY_MAX = 64 * 1024  # the largest valid API request is a few kilobytes

_LINE_BREAKS = {"\t", "\n", "\r"}


def clean_text(value: str, *, field: str, max_length: int, multiline: bool = False) -> str:
    """Return `value` if it is storable text within the limit; raise a ValidationError
    naming `field` otherwise. NUL and lone surrogates (which JSON can carry but UTF-8
    cannot encode) are never text; other control characters only as line breaks in
    multi-line fields."""
    if not isinstance(value, str):
        raise ValidationError({field: "Send text."})
    if len(value) > max_length:
        raise ValidationError({field: f"Use at most {max_length} characters "
                                      f"(this has {len(value)})."})
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or char == "\x00" or (
                category == "Cc" and not (multiline and char in _LINE_BREAKS)):
            raise ValidationError({field: "This is not valid text: it holds a control "
                                          "character or an unpaired surrogate."})
    return value
