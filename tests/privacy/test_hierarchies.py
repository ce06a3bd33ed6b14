from pathlib import Path

import pandas as pd
import pytest

from tessera.privacy._generate import DICT_NAME, REGIONS_CSV, build_regions
from tessera.privacy.errors import PrivacyError
from tessera.privacy.hierarchies import (
    CountryHierarchy,
    DateHierarchy,
    IntervalHierarchy,
    MappingHierarchy,
    age_hierarchy,
    hierarchy_from_config,
    infer_hierarchy,
)


def test_committed_region_lookup_matches_the_ctdc_dictionary(ctdc_vp_path: Path) -> None:
    expected = build_regions(ctdc_vp_path / DICT_NAME)
    committed = pd.read_csv(REGIONS_CSV, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(committed, expected.fillna(""), check_dtype=False)


def test_country_generalises_to_subregion_then_region() -> None:
    h = CountryHierarchy()
    assert [h.generalise("KEN", lv) for lv in range(4)] == ["KEN", "Eastern Africa", "Africa", "*"]
    assert h.generalise("Kenya", 1) == "Eastern Africa"
    assert h.generalise("de", 2) == "Europe"


def test_multi_valued_cells_generalise_each_element_and_deduplicate() -> None:
    h = CountryHierarchy()
    assert h.generalise("KEN;UGA", 1) == "Eastern Africa"
    assert h.generalise("FRA;KEN", 2) == "Africa;Europe"


def test_age_bands_nest_up_to_minor_and_adult() -> None:
    h = age_hierarchy()
    assert [h.generalise("17", lv) for lv in range(6)] == [
        "17",
        "15-17",
        "9-17",
        "0-17",
        "0-17",
        "*",
    ]
    assert h.generalise("52", 2) == "48+"
    assert h.generalise("19", 4) == "18+"


def test_dates_generalise_to_month_year_and_band() -> None:
    h = DateHierarchy(band_years=5)
    assert [h.generalise("2017-03-09", lv) for lv in range(5)] == [
        "2017-03-09",
        "2017-03",
        "2017",
        "2015-2019",
        "*",
    ]


def test_values_a_hierarchy_cannot_place_raise_naming_column_and_value() -> None:
    with pytest.raises(PrivacyError, match=r"'citizenship'.*'Atlantis'"):
        CountryHierarchy().validate(["KEN", "Atlantis"], "citizenship")
    with pytest.raises(PrivacyError, match=r"cannot generalise value .yesterday."):
        DateHierarchy().validate(["2020-01-01", "yesterday"], "date")


def test_interval_bands_must_nest() -> None:
    with pytest.raises(PrivacyError, match="do not nest"):
        IntervalHierarchy(cuts=[[0, 10, 20], [0, 15]])


def test_config_builds_each_type() -> None:
    mapping = hierarchy_from_config({"type": "mapping", "levels": [{"a": "x", "b": "x"}]})
    assert isinstance(mapping, MappingHierarchy)
    assert mapping.generalise("a;b", 1) == "x"
    assert (
        hierarchy_from_config({"type": "date", "band_years": 3}).generalise("2020-05-01", 3)
        == "2019-2021"
    )
    with pytest.raises(PrivacyError, match="unknown hierarchy type"):
        hierarchy_from_config({"type": "zodiac"})


def test_inference_recognises_numbers_countries_and_dates() -> None:
    assert isinstance(infer_hierarchy(pd.Series(["3", "40"])), IntervalHierarchy)
    assert isinstance(infer_hierarchy(pd.Series(["KEN", "FRA;DEU"])), CountryHierarchy)
    assert isinstance(infer_hierarchy(pd.Series(["2020-01-01", None])), DateHierarchy)
