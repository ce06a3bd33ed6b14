"""Defences against hostile or broken files: size limits, zip bombs, encodings, formula injection.

Every refusal raises `ExchangeFileError` with a message a data officer can act on; the importers
call these before anything is written, so a refused file writes nothing.
"""

from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _

# Excel's own limit on the characters of one cell; a longer cell is not a real spreadsheet value.
MAX_CELL_CHARS = 32_767
# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


class ExchangeFileError(ValueError):
    """The file as a whole cannot be read; nothing was imported."""


def max_upload_bytes() -> int:
    return int(getattr(settings, "TESSERA_IMPORT_MAX_BYTES", 256 * 1024 * 1024))


def max_unzipped_bytes() -> int:
    return int(getattr(settings, "TESSERA_IMPORT_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024))


def check_size(data: bytes) -> None:
    if len(data) > max_upload_bytes():
        raise ExchangeFileError(
            _("The file is larger than %(limit)s MB.") % {"limit": max_upload_bytes() // 2**20}
        )
    if not data:
        raise ExchangeFileError(_("The file is empty."))


def check_zip(data: bytes) -> None:
    """Refuse damaged archives and archives that would expand past the limit (zip bombs)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ExchangeFileError(
            _("This is not a readable Excel file (it is truncated or damaged): %(detail)s")
            % {"detail": exc}
        ) from None
    total = sum(member.file_size for member in members)
    worst = max(
        (m.file_size / max(m.compress_size, 1) for m in members if m.file_size > 2**20),
        default=0.0,
    )
    if total > max_unzipped_bytes() or worst > 200:
        raise ExchangeFileError(
            _(
                "The Excel file expands to %(size)s MB: too large, or built to exhaust memory "
                "(a zip bomb). Split it or save it as CSV."
            )
            % {"size": total // 2**20}
        )
    try:
        # Only now that the declared sizes are sane: testzip inflates every member.
        bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        bad = str(exc)
    if bad is not None:
        raise ExchangeFileError(_("The Excel file is damaged (%(part)s).") % {"part": bad})


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is a clear error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExchangeFileError(_("The file says UTF-16 but is not: %s") % exc) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExchangeFileError(
            _(
                "The file is not UTF-8 text (byte 0x%(byte)02x at position %(pos)s). In Excel "
                "choose Save As → 'CSV UTF-8'; elsewhere re-save the file as UTF-8."
            )
            % {"byte": data[exc.start], "pos": exc.start}
        ) from None
    if "\x00" in text:
        raise ExchangeFileError(_("The file contains NUL bytes: it is not a text file."))
    return text


def check_cell(value: str) -> str | None:
    """A message if the imported cell must be refused (too long, or a live formula)."""
    if len(value) > MAX_CELL_CHARS:
        return _("The cell holds %(n)s characters; the most a cell may hold is %(max)s.") % {
            "n": len(value),
            "max": MAX_CELL_CHARS,
        }
    if is_formula(value):
        return _(
            "The cell looks like a spreadsheet formula (%(start)s…); formulas are not imported. "
            "Paste the value instead, or start the cell with an apostrophe."
        ) % {"start": value[:12]}
    return None


def is_formula(value: str) -> bool:
    if value.startswith(("=", "@")):
        return True
    return value.startswith(("+", "-")) and any(c in value for c in "(|!")


def unquote(value: str) -> str:
    """Undo `neutralise` (an apostrophe before a formula trigger is ours, or Excel's)."""
    if value.startswith(_QUOTE) and value[1:2] and value[1] in "".join(FORMULA_TRIGGERS) + _QUOTE:
        return value[1:]
    return value


_SIGNED_NUMBER = re.compile(r"^[+-]\d+(\.\d+)?$")


def neutralise(value: str) -> str:
    """Prefix an apostrophe so that no spreadsheet evaluates an exported cell as a formula.
    A plain signed number (CTDC's -99) is left alone: it cannot run anything."""
    if _SIGNED_NUMBER.match(value):
        return value
    if value.startswith(FORMULA_TRIGGERS) or (value.startswith(_QUOTE) and unquote(value) != value):
        return _QUOTE + value
    return value
