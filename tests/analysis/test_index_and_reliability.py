"""The 0-100 satisfaction index and Cronbach's alpha with its Feldt interval and item diagnostics."""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from analysis import cronbach_alpha, satisfaction_index

ITEMS = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})


def test_satisfaction_index_matches_hand_computation():
    # hand: overall mean 7 -> (7 - 1)/9 = 66.67; expectations mean 5 -> 4/9 = 44.44;
    # equal weights -> 55.56; weights .75/.25 -> 50 + 11.11 = 61.11
    answers = pd.DataFrame({"overall": [10, 7, 4], "expectations": [10, 4, 1]})
    assert satisfaction_index(answers, ["overall", "expectations"]).value == pytest.approx(55.556, abs=1e-3)
    weighted = satisfaction_index(answers, ["overall", "expectations"], weights={"overall": .75, "expectations": .25})
    assert weighted.value == pytest.approx(61.111, abs=1e-3)


def test_satisfaction_index_interval_comes_from_per_respondent_indices():
    rng = np.random.default_rng(2)
    answers = pd.DataFrame(rng.integers(1, 11, size=(60, 3)), columns=["overall", "expectations", "ideal"])
    weights = {"overall": 0.5, "expectations": 0.3, "ideal": 0.2}
    per_respondent = []
    for _, row in answers.iterrows():  # independent: one respondent at a time
        per_respondent.append(sum(w * (row[item] - 1) / 9 * 100 for item, w in weights.items()))
    reference = DescrStatsW(np.array(per_respondent))
    estimate = satisfaction_index(answers, list(weights), weights=weights)
    assert estimate.value == pytest.approx(reference.mean)
    assert (estimate.low, estimate.high) == pytest.approx(reference.tconfint_mean())
    assert estimate.n == 60


def test_satisfaction_index_drops_respondents_missing_an_item():
    answers = pd.DataFrame({"overall": [10, 1, None], "expectations": [10, 1, 5]})
    estimate = satisfaction_index(answers, ["overall", "expectations"])
    assert estimate.n == 2
    assert estimate.value == pytest.approx(50.0)  # hand: respondents at 100 and 0


def test_satisfaction_index_validates_weights_items_and_scale():
    answers = pd.DataFrame({"overall": [10, 7], "expectations": [10, 4]})
    with pytest.raises(ValueError, match="sum to 1, they sum to 0.9"):
        satisfaction_index(answers, ["overall", "expectations"], weights={"overall": .5, "expectations": .4})
    with pytest.raises(ValueError, match="'ideal'"):
        satisfaction_index(answers, ["overall", "ideal"])
    with pytest.raises(ValueError, match="no weight for item 'expectations'"):
        satisfaction_index(answers, ["overall", "expectations"], weights={"overall": 1})
    with pytest.raises(ValueError, match="column 'overall' contains 10, outside the declared scale 1..5"):
        satisfaction_index(answers, ["overall", "expectations"], scale=(1, 5))


def test_cronbach_alpha_matches_hand_computation_and_feldt_interval():
    # hand: item variances 2.5, 2.3, 1.5 (sum 6.3); totals 4, 7, 9, 13, 14 have variance 17.3;
    # alpha = 3/2 * (1 - 6.3/17.3) = .95376.
    # Feldt, df1 = 4, df2 = 8: F.975(4, 8) = 5.0526, F.025(4, 8) = 1/F.975(8, 4) = 1/8.9796 = .11136;
    # low = 1 - .04624*5.0526 = .7664, high = 1 - .04624*.11136 = .9949
    reliability = cronbach_alpha(ITEMS)
    assert reliability.alpha == pytest.approx(0.95376, abs=1e-5)
    assert reliability.low == pytest.approx(0.7664, abs=5e-4)
    assert reliability.high == pytest.approx(0.9949, abs=5e-4)
    assert reliability.n == 5


def brute_force_alpha(frame: pd.DataFrame) -> float:
    """Cronbach's alpha from its definition, with the standard library's sample variance."""
    k = frame.shape[1]
    item_variances = sum(statistics.variance(frame[column].tolist()) for column in frame)
    total_variance = statistics.variance(frame.sum(axis=1).tolist())
    return k / (k - 1) * (1 - item_variances / total_variance)


def test_cronbach_alpha_item_diagnostics_agree_with_brute_force_recomputation():
    rng = np.random.default_rng(4)
    mood = rng.normal(size=200)
    frame = pd.DataFrame({f"q{i}": np.clip(np.round(5 + 2 * mood + rng.normal(scale=1 + i, size=200)), 1, 10)
                          for i in range(4)})
    reliability = cronbach_alpha(frame)
    assert reliability.alpha == pytest.approx(brute_force_alpha(frame))
    for column in frame:
        rest = frame.drop(columns=column)
        assert reliability.alpha_if_deleted[column] == pytest.approx(brute_force_alpha(rest))
        assert reliability.item_total[column] == pytest.approx(np.corrcoef(frame[column], rest.sum(axis=1))[0, 1])
    # the noisiest item (q3) is the one whose removal helps most
    assert reliability.alpha_if_deleted.idxmax() == "q3"


def test_cronbach_alpha_agrees_with_pingouin():
    pingouin = pytest.importorskip("pingouin")
    rng = np.random.default_rng(6)
    mood = rng.normal(size=80)
    frame = pd.DataFrame({f"q{i}": np.round(3 + mood + rng.normal(size=80)) for i in range(5)})
    frame.iloc[3, 2] = np.nan  # both drop the incomplete respondent (listwise)
    alpha, interval = pingouin.cronbach_alpha(frame, nan_policy="listwise", ci=0.9)
    reliability = cronbach_alpha(frame, confidence=0.9)
    assert reliability.alpha == pytest.approx(alpha)
    assert (reliability.low, reliability.high) == pytest.approx(tuple(interval), abs=5e-4)  # pingouin rounds to 3
    assert reliability.n == 79


def test_cronbach_alpha_with_two_items_has_no_alpha_if_deleted():
    reliability = cronbach_alpha(ITEMS[["a", "b"]])
    assert reliability.alpha_if_deleted.isna().all()
    # hand: cov(a, b) = 2.25, var a + var b = 4.8, total variance 4.8 + 4.5 = 9.3: alpha = 2*(1 - 4.8/9.3) = .9677
    assert reliability.alpha == pytest.approx(0.96774, abs=1e-5)


def test_cronbach_alpha_rejects_too_few_items_rows_or_no_variance():
    with pytest.raises(ValueError, match="at least two items"):
        cronbach_alpha(ITEMS[["a"]])
    with pytest.raises(ValueError, match="at least two complete respondents"):
        cronbach_alpha(ITEMS.iloc[:1])
    with pytest.raises(ValueError, match="no variance"):
        cronbach_alpha(pd.DataFrame({"a": [3, 3, 3], "b": [2, 2, 2]}))
    with pytest.raises(ValueError, match="column 'b' contains 'x'"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [1, "x"]}))
