"""One-edit variants of normalised values, as 16-byte blocks ready for keyed hashing.

Two values one edit apart (insertion, deletion, substitution or transposition of one
character) always share a member of their sets of "the value, and the value with one character
deleted" (the symmetric-deletion idea of SymSpell); so do the few values that are a deletion at
one place and an insertion at another apart, and no others. Dates instead get the variants clerks get
wrong: day and month swapped, and year-month, year-day and month-day alone.

A block is ``[namespace][length][14 content bytes]``; content longer than 14 bytes is replaced
by a keyed 14-byte BLAKE2b digest (length byte 255). ASCII values of up to 14 bytes are done
with numpy on byte matrices; the rest in Python, producing the same blocks.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

BLOCK = 16
CONTENT = BLOCK - 2
LONG = 255
# Namespaces: a value and its deletion variants share one, so "ana" (a value) meets "ana"
# (a variant of "anan"); the partial dates each have their own.
EXACT, YEAR_MONTH, YEAR_DAY, MONTH_DAY = 0, 1, 2, 3

Blocks = npt.NDArray[np.uint8]


def variant_texts(kind: str, value: str, cap: int) -> list[tuple[int, str] | None]:
    """(namespace, text) of each variant slot, the value first; None for an empty slot.

    Dates have fixed slots: value, day-month swap (None when they are equal), year-month,
    year-day, month-day. Other kinds: the value, then its deletions, at most ``cap`` in all.
    """
    if kind == "date" and len(value) == 8 and value.isdigit():
        year, month, day = value[:4], value[4:6], value[6:]
        swapped = year + day + month
        return [
            (EXACT, value),
            None if swapped == value else (EXACT, swapped),
            (YEAR_MONTH, year + month),
            (YEAR_DAY, year + day),
            (MONTH_DAY, month + day),
        ][:cap]
    if kind == "date":
        return [(EXACT, value)]
    found: list[tuple[int, str] | None] = [(EXACT, value)]
    found += [
        (EXACT, value[:i] + value[i + 1 :])
        for i in range(len(value))
        if len(value) > 1 and (i == 0 or value[i] != value[i - 1])
    ]
    return found[:cap]


def block(namespace: int, content: str, digest_key: bytes) -> bytes:
    """The 16-byte block of one variant."""
    raw = content.encode()
    if len(raw) > CONTENT:
        raw = hashlib.blake2b(raw, key=digest_key, digest_size=CONTENT).digest()
        return bytes([namespace, LONG]) + raw
    return bytes([namespace, len(raw)]) + raw.ljust(CONTENT, b"\0")


def variant_blocks(
    kind: str, values: list[str], cap: int, digest_key: bytes
) -> tuple[Blocks, npt.NDArray[np.bool_]]:
    """Blocks ``(len(values), cap, 16)`` and which slots hold a variant (slot 0: the value)."""
    out = np.zeros((len(values), cap, BLOCK), dtype=np.uint8)
    valid = np.zeros((len(values), cap), dtype=bool)
    if "".join(values).isascii():
        fast = (
            np.char.str_len(np.array(values, dtype=str)) <= CONTENT if values else np.ones(0, bool)
        )
    else:
        fast = np.array([v.isascii() and len(v) <= CONTENT for v in values], dtype=bool)
    rows = np.flatnonzero(fast)
    if len(rows):
        fast_blocks, fast_valid = _ascii_blocks(kind, [values[i] for i in rows], cap)
        out[rows], valid[rows] = fast_blocks, fast_valid
    for i in np.flatnonzero(~fast).tolist():
        for slot, variant in enumerate(variant_texts(kind, values[i], cap)):
            if variant is not None:
                namespace, text = variant
                out[i, slot] = np.frombuffer(block(namespace, text, digest_key), dtype=np.uint8)
                valid[i, slot] = True
    return out, valid


def _ascii_blocks(kind: str, values: list[str], cap: int) -> tuple[Blocks, npt.NDArray[np.bool_]]:
    """:func:`variant_blocks` for ASCII values of at most 14 bytes, on byte matrices."""
    n = len(values)
    text = np.array(values, dtype=f"S{CONTENT}")
    chars = text.view(np.uint8).reshape(n, CONTENT)
    lengths = np.char.str_len(text).astype(np.int64)
    out = np.zeros((n, cap, BLOCK), dtype=np.uint8)
    valid = np.zeros((n, cap), dtype=bool)
    out[:, 0, 1], out[:, 0, 2:] = lengths, chars
    valid[:, 0] = True
    is_date = (lengths == 8) & np.all((chars[:, :8] >= 48) & (chars[:, :8] <= 57), axis=1)
    if kind == "date":
        _date_variants(chars, is_date, out, valid, cap)
        return out, valid
    # Deleting one of a run of equal characters gives the same variant: keep the first only.
    previous = np.concatenate([np.zeros((n, 1), np.uint8), chars[:, :-1]], axis=1)
    keep = (np.arange(CONTENT)[None, :] < lengths[:, None]) & (lengths[:, None] > 1)
    keep &= (np.arange(CONTENT)[None, :] == 0) | (chars != previous)
    slot = np.cumsum(keep, axis=1)  # slot of each kept deletion (1, 2, ...)
    keep &= slot < cap
    for position in range(CONTENT):
        rows = np.flatnonzero(keep[:, position])
        if not len(rows):
            continue
        deleted = np.concatenate(
            [
                chars[rows, :position],
                chars[rows, position + 1 :],
                np.zeros((len(rows), 1), np.uint8),
            ],
            axis=1,
        )
        target = slot[rows, position]
        out[rows, target, 1] = lengths[rows] - 1
        out[rows, target, 2:] = deleted
        valid[rows, target] = True
    return out, valid


def _date_variants(
    chars: Blocks,
    is_date: npt.NDArray[np.bool_],
    out: Blocks,
    valid: npt.NDArray[np.bool_],
    cap: int,
) -> None:
    rows = np.flatnonzero(is_date)
    year, month, day = chars[rows, :4], chars[rows, 4:6], chars[rows, 6:8]
    swapped = np.concatenate([year, day, month], axis=1)
    differs = ~np.all(swapped == chars[rows, :8], axis=1)
    partials = [
        (1, EXACT, swapped, differs),
        (2, YEAR_MONTH, np.concatenate([year, month], axis=1), None),
        (3, YEAR_DAY, np.concatenate([year, day], axis=1), None),
        (4, MONTH_DAY, np.concatenate([month, day], axis=1), None),
    ]
    for slot, namespace, content, present in partials:
        if slot >= cap:
            break
        use = np.ones(len(rows), dtype=bool) if present is None else present
        r = rows[use]
        out[r, slot, 0] = namespace
        out[r, slot, 1] = content.shape[1]
        out[r, slot, 2 : 2 + content.shape[1]] = content[use]
        valid[r, slot] = True
