"""Match keys and their Fellegi-Sunter scoring: what they reveal, and what agreement they find."""

from __future__ import annotations

from collections import Counter

import jellyfish
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.privacy.demo_people import generate_people
from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl import _variants, scoring
from tessera.privacy.pprl.encode import encode
from tessera.privacy.pprl.io import from_frame, to_frame
from tessera.privacy.pprl.keys import LinkageKey
from tessera.privacy.pprl.link import link
from tessera.privacy.pprl.matchkeys import KeyLayout
from tessera.privacy.pprl.normalise import NORMALISERS, normalise_column
from tessera.privacy.pprl.schema import default_schema

KEY = LinkageKey(bytes(range(32)))
PEOPLE = {"given_name": "name", "family_name": "name", "date_of_birth": "date", "phone": "phone"}
SCHEMA = default_schema(PEOPLE)  # type: ignore[arg-type]


def people(rows: list[tuple[str | None, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(PEOPLE))


@pytest.fixture(scope="module")
def crowded() -> pd.DataFrame:
    """Many shared names (the generator's top names are near-identical): many shared combos."""
    a, _ = generate_people(3000, overlap=0.5, typo_rate=0.0, seed=4)
    return pd.concat([a, a.head(50)], ignore_index=True)  # and 50 exact duplicates


def test_no_token_is_shared_by_two_different_records_of_a_table(crowded: pd.DataFrame) -> None:
    keys = encode(crowded, SCHEMA, KEY).keys
    assert keys is not None
    rows = crowded[list(PEOPLE)].astype("string").fillna("\x00").agg("|".join, axis=1)
    owners: dict[int, set[str]] = {}
    for row, tokens in zip(rows, keys.tokens.tolist(), strict=True):
        for token in tokens:
            owners.setdefault(token, set()).add(row)
    assert max(len(o) for o in owners.values()) == 1
    # Exact duplicates are one record: they keep all their tokens, identical.
    assert np.array_equal(keys.tokens[:50], keys.tokens[3000:])


def test_every_record_has_the_same_number_of_tokens_and_encoding_is_deterministic(
    crowded: pd.DataFrame,
) -> None:
    first = encode(crowded.head(400), SCHEMA, KEY).keys
    again = encode(crowded.head(400), SCHEMA, KEY).keys
    other = encode(crowded.head(400), SCHEMA, LinkageKey(bytes(range(1, 33)))).keys
    assert first is not None and again is not None and other is not None
    assert first.tokens.shape == (400, first.layout.width)
    assert np.array_equal(first.tokens, again.tokens)
    assert not set(first.tokens.ravel().tolist()) & set(other.tokens.ravel().tolist())


def test_a_record_gets_the_same_tokens_on_any_row(crowded: pd.DataFrame) -> None:
    sample = crowded.head(300)
    forward = encode(sample, SCHEMA, KEY)
    backward = encode(sample.iloc[::-1].reset_index(drop=True), SCHEMA, KEY)
    assert forward.keys is not None and backward.keys is not None
    assert np.array_equal(forward.keys.tokens, backward.keys.tokens[::-1])
    assert np.array_equal(forward.bits, backward.bits[::-1])  # the CLK's noise too


def test_presence_masks_look_random_within_a_table_and_cancel_between_sharers() -> None:
    from tessera.privacy.pprl.matchkeys import MATCH_BITS, PRESENCE_BITS

    a, b = generate_people(4000, overlap=0.5, typo_rate=0.0, seed=9)
    ea, eb = encode(a, SCHEMA, KEY), encode(b, SCHEMA, KEY)
    assert ea.keys is not None and eb.keys is not None
    masks = ea.keys.tokens >> np.uint64(64 - PRESENCE_BITS)
    # Most records have every identifier (mask 15), yet every byte value is about as frequent.
    counts = np.bincount(masks.ravel().astype(np.int64), minlength=256)
    assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean()
    # Tokens the tables share: the masks' XOR is the records' presence difference.
    index = {int(t): r for r, row in enumerate(ea.keys.tokens & MATCH_BITS) for t in row}
    held = {
        "a": a[list(PEOPLE)].notna().to_numpy(),
        "b": b[list(PEOPLE)].notna().to_numpy(),
    }
    checked = 0
    for rb, row in enumerate(eb.keys.tokens):
        for token in row.tolist():
            ra = index.get(token & int(MATCH_BITS))
            if ra is not None:
                other = int(
                    ea.keys.tokens[ra][
                        list(ea.keys.tokens[ra] & MATCH_BITS).index(token & int(MATCH_BITS))
                    ]
                )
                differ = (token ^ other) >> (64 - PRESENCE_BITS)
                want = sum(1 << f for f in range(4) if held["a"][ra, f] != held["b"][rb, f])
                assert differ == want
                checked += 1
    assert checked > 1000


def levels_of(a_rows: list[tuple[str | None, ...]], b_rows: list[tuple[str | None, ...]]) -> dict:
    a, b = people(a_rows), people(b_rows)
    ea, eb = encode(a, SCHEMA, KEY), encode(b, SCHEMA, KEY)
    assert ea.keys is not None and eb.keys is not None
    found = scoring.candidates(ea.keys, eb.keys)
    return {
        (int(i), int(j)): tuple(lv) for i, j, lv in zip(found.i, found.j, found.levels, strict=True)
    }


def test_levels_say_how_each_identifier_agrees() -> None:
    e, f, p, d, m = scoring.EXACT, scoring.FUZZY, scoring.PARTIAL, scoring.DISAGREE, None
    base = ("amina", "okafor", "1990-04-23", "+234 803 555 0101")
    cases = [
        (("amina", "okafor", "1990-04-23", "+234 803 555 0101"), (e, e, e, e)),
        (("amina", "okafr", "1990-04-23", "803 555 0101"), (e, f, e, e)),  # deletion; no code
        (("amnia", "okafor", "1990-04-23", "+234 803 555 0101"), (f, e, e, e)),  # transposition
        (("amina", "okafor", "1990-23-04", "+234 803 555 0101"), (e, e, f, e)),  # day-month
        (("amina", "okafor", "1990-04-29", "+234 803 555 0101"), (e, e, p, e)),  # day typo
        (("amina", "okafor", "1975-01-02", "+44 7700 900123"), (e, e, d, d)),
        (("amina", "okafor", m, m), (e, e, scoring.MISSING, scoring.MISSING)),  # one side
    ]
    for other, want in cases:
        found = levels_of([base], [other])
        assert found[(0, 0)] == want, other
    # Missing on both sides: told apart from disagreeing by the shared "missing" tokens.
    both = levels_of([("amina", "okafor", None, None)], [("amina", "okafr", None, None)])
    assert both[(0, 0)] == (e, f, scoring.MISSING, scoring.MISSING)
    differ = levels_of([("amina", "okafor", None, None)], [("amina", "okafor", "1975-01-02", None)])
    assert differ[(0, 0)] == (e, e, scoring.MISSING, scoring.MISSING)


def test_a_name_and_a_date_both_mistyped_still_meet() -> None:
    found = levels_of(
        [("tazoli", "kedafami", "1985-04-27", None)], [("azoli", "kedjafami", "1985-27-04", None)]
    )
    assert found[(0, 0)][:3] == (scoring.FUZZY, scoring.FUZZY, scoring.FUZZY)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=20), min_size=1, max_size=20))
def test_vectorised_normalisation_is_that_of_the_reference_functions(values: list[str]) -> None:
    values += ["Zoë", "Ann-Marie  O'Neil", "٠٧٧٠٠٩٠٠١٢٣", "02/03/1984", "1984-03-02", "ß"]
    for kind in ("name", "text", "phone", "date"):
        codes, distinct = normalise_column(pd.Series(values, dtype=object), kind)
        got = [distinct[c] if c >= 0 else "" for c in codes]
        assert got == [NORMALISERS[kind](v.strip()) for v in values], kind


def test_phone_numbers_read_as_numbers_are_their_digits() -> None:
    codes, distinct = normalise_column(pd.Series([447700900123.0, None]), "phone")
    assert [distinct[codes[0]], codes[1]] == ["700900123", -1]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="abcdefg", min_size=2, max_size=11),
    st.text(alphabet="abcdefg", min_size=2, max_size=11),
)
def test_deletion_variants_meet_for_every_single_edit_and_never_beyond_two(x: str, y: str) -> None:
    def variants(v: str) -> set[str]:
        return {t for _, t in filter(None, _variants.variant_texts("name", v, 12))}

    meet = bool(variants(x) & variants(y))
    if jellyfish.damerau_levenshtein_distance(x, y) <= 1:
        assert meet
    if meet:  # one deletion on each side: at most a deletion and an insertion apart
        assert jellyfish.levenshtein_distance(x, y) <= 2


def test_vectorised_variant_blocks_are_those_of_the_python_path() -> None:
    values = ["anan", "aab", "okafor", "x", "19900423", "19900404", "1990", "12345678901234"]
    for kind in ("name", "date", "phone"):
        fast, valid = _variants.variant_blocks(kind, values, 12, b"k" * 16)
        for i, value in enumerate(values):
            want = _variants.variant_texts(kind, value, 12)
            for slot in range(12):
                variant = want[slot] if slot < len(want) else None
                assert valid[i, slot] == (variant is not None), (kind, value, slot)
                if variant is not None:
                    block = _variants.block(*variant, b"k" * 16)
                    assert fast[i, slot].tobytes() == block, (kind, value, slot)


def test_em_recovers_the_weights_it_was_given() -> None:
    rng = np.random.default_rng(5)
    m = np.array([[0.02, 0.08, 0.05, 0.25, 0.60]] * 4)
    u = np.array([[0.55, 0.10, 0.15, 0.15, 0.05]] * 4)
    matches = rng.random(20_000) < 0.3
    levels = np.stack(
        [
            np.where(matches, rng.choice(5, 20_000, p=m[f]), rng.choice(5, 20_000, p=u[f]))
            for f in range(4)
        ],
        axis=1,
    ).astype(np.int8)
    model = scoring.fit(levels)
    assert abs(model.match_share - 0.3) < 0.02
    assert np.abs(model.m - m).max() < 0.03 and np.abs(model.u - u).max() < 0.03


def test_linkage_by_keys_is_precise_on_typos_and_reports_its_model() -> None:
    a, b = generate_people(2000, overlap=0.5, typo_rate=0.3, seed=2)
    result = link(encode(a, SCHEMA, KEY, a["person"]), encode(b, SCHEMA, KEY, b["person"]))
    correct = (result.pairs["a_id"] == result.pairs["b_id"]).sum()
    assert result.method == "keys" and result.model is not None
    assert correct / len(result.pairs) >= 0.99 and correct / 1000 >= 0.98
    assert result.pairs["score"].between(0.5, 1).all()
    weights = result.model.weights
    assert (weights[:, scoring.EXACT] > weights[:, scoring.DISAGREE]).all()


def test_encoded_files_keep_the_keys_and_bad_ones_are_named() -> None:
    encoded = encode(generate_people(200, seed=1)[0], SCHEMA, KEY)
    frame = to_frame(encoded)
    back = from_frame(frame)
    assert back.keys is not None and encoded.keys is not None
    assert np.array_equal(back.keys.tokens, encoded.keys.tokens)
    for column, value, message in [
        ("layout", "mk9:name,date", "unknown match-key layout"),
        ("layout", "mk2:name,colour", "unknown identifier kinds"),
        ("keys", "AAAAAAAAAAA=", "match keys per record"),
        ("keys", "not base64!", "not base64"),
    ]:
        broken = frame.copy()
        broken[column] = value
        with pytest.raises(PrivacyError, match=message):
            from_frame(broken)
    with pytest.raises(PrivacyError, match="need all of"):
        from_frame(frame.drop(columns=["layout"]))


def test_tables_with_different_keys_are_refused() -> None:
    a = encode(generate_people(50, seed=1)[0], SCHEMA, KEY)
    three = default_schema({"given_name": "name", "family_name": "name", "phone": "phone"})
    b = encode(generate_people(50, seed=1)[0], three, KEY)
    assert a.keys is not None and b.keys is not None
    with pytest.raises(PrivacyError, match="different match keys"):
        scoring.candidates(a.keys, b.keys)


def test_layout_lists_each_type_once_and_fits_its_width() -> None:
    layout = KeyLayout(("name", "name", "date", "phone"))
    slots = Counter()
    for kt in layout.types:
        for s in range(kt.start, kt.start + kt.slots):
            slots[s] += 1
    assert set(slots.values()) == {1} and len(slots) == layout.width
    assert KeyLayout.parse(layout.describe()) == layout


def test_schemas_the_keys_cannot_serve_are_refused_with_the_reason() -> None:
    from tessera.privacy.pprl.schema import ClkSchema, FieldSpec

    with pytest.raises(PrivacyError, match="at least two keyed identifiers"):
        ClkSchema([FieldSpec("a", "name"), FieldSpec("b", "text"), FieldSpec("c", "text")])
    nine = [FieldSpec(f"n{i}", "name") for i in range(9)]
    frame = pd.DataFrame({f"n{i}": ["x"] for i in range(9)})
    with pytest.raises(PrivacyError, match="at most 8 keyed identifiers"):
        encode(frame, ClkSchema(nine), KEY)
    with pytest.raises(PrivacyError, match="listed twice"):
        ClkSchema([FieldSpec("a", "name"), FieldSpec("a", "date"), FieldSpec("b", "phone")])
    with pytest.raises(PrivacyError, match="3 ids for 2 records"):
        encode(people([("a", "b", None, None)] * 2), SCHEMA, KEY, pd.Series(["1", "2", "3"]))


def test_with_one_candidate_a_typo_links_and_a_coincidence_does_not() -> None:
    amina = [("amina", "okafor", "1990-04-23", "+234 803 555 0101")]
    cases = {
        ("amina", "okafr", "1990-04-23", None): 1,  # the same woman, one typo, no phone
        ("amina", "bello", "1990-04-30", "+44 7700 900123"): 0,  # same name, same month
    }
    for other, pairs in cases.items():
        result = link(encode(people(amina), SCHEMA, KEY), encode(people([other]), SCHEMA, KEY))
        assert result.comparisons == 1  # they share a token
        assert len(result.pairs) == pairs, other
