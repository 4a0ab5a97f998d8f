"""Languages of the console: Indonesian (the default) and English, from gettext catalogs (Babel).

Message ids are English; ``locale/id/LC_MESSAGES/messages.po`` holds the Indonesian. Formats follow
../shared/design/console.md: ``Rp 20.000.000``, ``7 Desember 2026``, times in WIB (Asia/Jakarta; stored UTC),
NIK and KK grouped by four digits for reading, a file's size as ``12,3 KB``. ``make translations`` extracts new
messages and compiles the catalogs; a unit test fails while a message has no Indonesian.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT = "id"
WIB = ZoneInfo("Asia/Jakarta")


def N_(message: str) -> str:
    """Marks a message for extraction where it is declared; it is translated where it is shown."""
    return message


@cache
def catalog(code: str) -> NullTranslations:
    if code == "en":  # the message ids are English
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [code], domain="messages")


class Language:
    """One request's language: its translations and formats."""

    def __init__(self, code: str) -> None:
        self.code = code if code in LANGUAGES else DEFAULT
        self._catalog = catalog(self.code)

    def gettext(self, message: str, **values: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        return self._catalog.ngettext(singular, plural, n).format(n=n, **values)

    def rupiah(self, amount: int | None) -> str:
        if amount is None:
            return "—"
        return f"Rp {format_decimal(amount, locale=self.code)}"

    def number(self, value: int | float | None) -> str:
        return "—" if value is None else format_decimal(value, locale=self.code)

    def size(self, value: int | None) -> str:
        """A file's size as people read it: ``845 B``, ``12,3 KB``, ``1,2 MB`` (a KB of 1,024 bytes)."""
        if value is None:
            return "—"
        for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
            if value >= scale:
                return f"{format_decimal(value / scale, format='#,##0.#', locale=self.code)} {unit}"
        return f"{value} B"

    def date(self, value: date | str | None) -> str:
        if not value:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        if isinstance(value, datetime):
            value = value.astimezone(WIB).date() if value.tzinfo else value.date()
        return format_date(value, "d MMMM y", locale=self.code)

    def moment(self, value: datetime | str | None) -> str:
        """A moment in WIB: ``7 Desember 2026, 10.04 WIB``."""
        if not value:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        pattern = "d MMMM y, HH.mm" if self.code == "id" else "d MMMM y, HH:mm"
        return f"{format_datetime(value, pattern, tzinfo=WIB, locale=self.code)} WIB"


def grouped(digits: str | None) -> str:
    """``1801061203150001`` → ``1801 0612 0315 0001``, for reading (typed without spaces); anything else (an erased
    one's ``[dihapus]``) as it is."""
    if not digits:
        return "—"
    if not digits.isdigit():
        return digits
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))
