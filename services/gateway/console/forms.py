"""Reading a submitted form as the API's types, the way people type in the office: ``Rp 20.000.000`` or
``20000000`` for money, a NIK with or without spaces, a date from the date picker.

Inputs are named after the API body's fields (``budget_lines.0.unit_price_rp``), so a sentence for a field —
ours, or the API's refusal naming that field — is shown next to the input it belongs to. What the office gets
wrong is said here in its own words before anything is sent; everything else is the API's to decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from services.gateway.console.i18n import N_, Language
from services.gateway.console.refusals import Refusal
from services.gateway.console.web import Refused, View

REQUIRED = N_("This field is required.")
MIN_PASSWORD = 8  # as the API's PasswordIn: said here first, in the office's words


class Form:
    def __init__(self, data: MultiDict, lang: Language) -> None:
        self.data, self.lang = data, lang
        self.errors: dict[str, str] = {}
        self.refusal: Refusal | None = None  # a refusal for the whole form (shown above it)
        self.status: int | None = None  # set when the form, or the API, refused what was sent

    def send(self, view: View, route: str, *, place: Callable[[Refusal], Refusal | None] | None = None,
             **request: Any) -> Any:
        """The form's write, sent once (its Idempotency-Key): the API's answer; or None when what was typed, or the
        API, refused it — then ``status`` says so, ``errors`` hold the sentences next to their fields and
        ``refusal`` the one above the form (``place`` puts an API refusal where it belongs; by default next to the
        field it names, when the form sent that field)."""
        if not self.ok:
            self.status = 400
            return None
        try:
            return view.api(route, once=True, **request)
        except Refused as refused:
            self.status = refused.refusal.status
            self.refusal = (place or self.refused)(refused.refusal)
            return None

    def read(self, view: View, route: str, **request: Any) -> Any:
        """A read the form needs before its write (the registry's id of a NIK typed): the API's answer, or None —
        when the form was refused already, or the API refused the read (as ``send``)."""
        if not self.ok:
            self.status = 400
            return None
        try:
            return view.api(route, **request)
        except Refused as refused:
            self.status = refused.refusal.status
            self.refusal = self.refused(refused.refusal)
            return None

    @property
    def shown_again(self) -> dict[str, Any]:
        """What a page needs to show this form again after a refusal."""
        return {"errors": self.errors, "refusal": self.refusal, "status": self.status}

    @property
    def ok(self) -> bool:
        return not self.errors

    def wrong(self, name: str, message: str, **values: object) -> None:
        self.errors.setdefault(name, self.lang.gettext(message, **values))

    def raw(self, name: str) -> str:
        return self.data.get(name, "").strip()

    def text(self, name: str, *, required: bool = True, max_length: int = 2000) -> str:
        value = " ".join(self.raw(name).split())
        if required and not value:
            self.wrong(name, REQUIRED)
        elif len(value) > max_length:
            self.wrong(name, N_("At most {n} characters."), n=max_length)
        return value

    def password(self, name: str = "password") -> str:
        """A new password, as typed (spaces belong to a password)."""
        value = self.data.get(name, "")
        if len(value) < MIN_PASSWORD:
            self.wrong(name, N_("At least {n} characters."), n=MIN_PASSWORD)
        return value

    def digits(self, name: str, length: int = 16, *, required: bool = True) -> str:
        """A NIK or KK: typed without spaces, but a pasted one with spaces or dots is taken too."""
        value = re.sub(r"[\s.\-]", "", self.raw(name))
        if not value and not required:
            return ""
        if not value:
            self.wrong(name, REQUIRED)
        elif not (value.isdigit() and len(value) == length):
            self.wrong(name, N_("Exactly {n} digits."), n=length)
        return value

    def rupiah(self, name: str, *, required: bool = True, positive: bool = True) -> int | None:
        text = re.sub(r"^rp\.?", "", self.raw(name).lower()).strip()
        if not text:
            if required:
                self.wrong(name, REQUIRED)
            return None
        # Whole rupiah: dots, commas and spaces separate thousands (groups of three), never decimals: "20.5" is
        # refused, not read as 205.
        if not re.fullmatch(r"\d{1,3}(?:[.,\s]\d{3})+|\d+", text):
            self.wrong(name, N_("An amount in whole rupiah, e.g. 20.000.000."))
            return None
        amount = int(re.sub(r"[\s.,]", "", text))
        if positive and amount == 0:
            self.wrong(name, N_("The amount must be more than zero."))
        return amount

    def integer(self, name: str, low: int, high: int, *, required: bool = True) -> int | None:
        text = self.raw(name)
        if not text:
            if required:
                self.wrong(name, REQUIRED)
            return None
        if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
            self.wrong(name, N_("A whole number from {low} to {high}."), low=low, high=high)
            return None
        return int(text)

    def day(self, name: str, *, required: bool = True) -> str | None:
        text = self.raw(name)
        if not text:
            if required:
                self.wrong(name, REQUIRED)
            return None
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            self.wrong(name, N_("Give a date."))
            return None

    def choice(self, name: str, options: list[str] | tuple[str, ...] | dict[str, Any], *,
               required: bool = True) -> str:
        value = self.raw(name)
        if not value and not required:
            return ""
        if value not in options:
            self.wrong(name, N_("Choose one of the options."))
        return value

    def rows(self, prefix: str) -> list[int]:
        """The indexes of the repeated rows sent under ``prefix.N.…`` (e.g. budget lines), in order."""
        found = {int(match.group(1)) for key in self.data.keys()
                 if (match := re.fullmatch(re.escape(prefix) + r"\.(\d+)\..+", key))}
        return sorted(found)

    def refused(self, refusal: Refusal, fields: set[str] | None = None) -> Refusal | None:
        """Put an API refusal next to its field when this form has that field (``fields``, by default the fields
        it sent); else it is the form's own sentence (returned, for the top of the form)."""
        if refusal.field and refusal.field in (self.data if fields is None else fields):
            self.errors[refusal.field] = refusal.sentence
            return None
        return refusal


def compact(data: MultiDict, prefix: str, fields: tuple[str, ...]) -> MultiDict:
    """The form with its repeated rows ``prefix.N.field`` renumbered 0, 1, … and the blank ones left out: the
    rows as they are sent to the API and shown again, so that a refusal's ``prefix.2.nik`` is the third row shown."""
    rows = Form(data, Language("en")).rows(prefix)
    kept = [index for index in rows if any(data.get(f"{prefix}.{index}.{field}", "").strip() for field in fields)]
    others = [(key, value) for key, value in data.items(multi=True) if not key.startswith(prefix + ".")]
    renumbered = [(f"{prefix}.{new}.{field}", data.get(f"{prefix}.{old}.{field}", ""))
                  for new, old in enumerate(kept) for field in fields]
    return MultiDict(others + renumbered)
