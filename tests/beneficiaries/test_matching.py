"""Spelling and transliteration variants meet on the same blocking keys; scores rank real duplicates first."""

import datetime as dt

import pytest

from beneficiaries import matching


@pytest.mark.parametrize(
    "variants",
    [
        ["Mohammad", "Muhammad", "Mohamed", "Mohammed", "محمد"],
        ["Ahmad", "Ahmed", "أحمد"],
        ["Hussein", "Husain", "حسين"],
        ["Fatima", "Fatemeh", "فاطمة"],
        ["Khalid", "Chaled", "Khaled", "خالد"],
        ["Yusuf", "Youssef", "يوسف"],
        ["Osama", "Usama"],
        ["Aisha", "Ayesha", "عائشة"],
        ["José", "Jose"],
    ],
)
def test_skeleton_variants_share_one_key(variants):
    assert len({matching.skeleton(v) for v in variants}) == 1, {v: matching.skeleton(v) for v in variants}


@pytest.mark.parametrize(("a", "b"), [("Mohammad", "Hamid"), ("Fatima", "Farida"), ("Ali", "Omar")])
def test_skeleton_different_names_differ(a, b):
    assert matching.skeleton(a) != matching.skeleton(b)


def test_keys_for_swapped_names_share_name_key():
    assert (
        matching.keys_for(given_name="Mohammad", family_name="Ahmadi")[0]
        == matching.keys_for(given_name="Ahmadi", family_name="Muhammad")[0]
    )


def test_score_same_person_other_spelling_is_a_candidate():
    other = {
        "pk": 1,
        "given_name": "Muhammad",
        "family_name": "Ahmadi",
        "date_of_birth": dt.date(1990, 5, 1),
        "nationality": "AF",
    }
    candidate = matching.score(
        given_name="Mohammad", family_name="Ahmadi", date_of_birth=dt.date(1990, 5, 1), nationality="AF", other=other
    )
    assert candidate is not None and candidate.score >= 0.9
    assert "name_variant" in candidate.reasons and "same_date_of_birth" in candidate.reasons


def test_score_other_nationality_and_far_birth_date_is_not_a_candidate():
    other = {
        "pk": 1,
        "given_name": "Muhammad",
        "family_name": "Ahmadi",
        "date_of_birth": dt.date(1960, 5, 1),
        "nationality": "SY",
    }
    assert (
        matching.score(
            given_name="Mohammad",
            family_name="Ahmadi",
            date_of_birth=dt.date(1990, 5, 1),
            nationality="AF",
            other=other,
        )
        is None
    )


def test_fold_removes_accents_and_transliterates():
    assert matching.fold("  Zoë  Brontë-Smith ") == "zoe bronte smith"
    assert matching.fold("محمد") != ""


def test_score_name_variant_without_birth_date_or_nationality_is_a_candidate():
    other = {"pk": 1, "given_name": "Mohammad", "family_name": "Ahmadi", "date_of_birth": None, "nationality": ""}
    candidate = matching.score(
        given_name="Muhammad", family_name="Ahmadi", date_of_birth=None, nationality="", other=other
    )
    assert candidate is not None


def test_score_same_common_name_born_years_apart_is_not_a_candidate():
    other = {
        "pk": 1,
        "given_name": "Mohammad",
        "family_name": "Ahmadi",
        "date_of_birth": dt.date(1980, 1, 1),
        "nationality": "AF",
    }
    assert (
        matching.score(
            given_name="Mohammad",
            family_name="Ahmadi",
            date_of_birth=dt.date(1992, 6, 1),
            nationality="AF",
            other=other,
        )
        is None
    )
