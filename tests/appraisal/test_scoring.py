"""Scoring methods: plain functions on known values."""
from decimal import Decimal as D

from xiaoneng.appraisal import scoring


def test_linear_scores_between_thresholds_and_clamps_outside():
    assert scoring.linear(D("90"), worst=80, best=100) == D("50.00")
    assert scoring.linear(D("70"), worst=80, best=100) == D("0.00")
    assert scoring.linear(D("100"), worst=80, best=100) == D("100.00")


def test_linear_with_lower_is_better_thresholds():
    assert scoring.linear(D("2.5"), worst=10, best=0) == D("75.00")


def test_attainment_is_capped_and_works_both_ways():
    assert scoring.attainment(D("80"), target=100) == D("80.00")
    assert scoring.attainment(D("120"), target=100) == D("100.00")
    assert scoring.attainment(D("120"), target=100, cap=110) == D("110.00")
    assert scoring.attainment(D("8"), target=6, lower_is_better=True) == D("75.00")


def test_ranking_gives_ties_the_same_place():
    scores = scoring.ranking({1: D("95"), 2: D("90"), 3: D("90"), 4: D("80")}, last=60)
    assert scores == {1: D("100"), 2: D("86.67"), 3: D("86.67"), 4: D("60.00")}


def test_deduction_stops_at_its_floor():
    assert scoring.deduction(D("3"), per_event=5, floor=60) == D("85.00")
    assert scoring.deduction(D("30"), per_event=5, floor=60) == D("60.00")


def test_missing_data_scores_the_configured_value():
    assert scoring.score_all("linear", {"worst": 80, "best": 100, "no_data": 0}, {1: None, 2: D("90")}) == {
        1: D("0.00"), 2: D("50.00")}
