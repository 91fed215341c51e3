"""analysis.retention against R's survival package (on R's `lung` data, tests/data/lung.csv) and
against hand-worked and statsmodels values. R is not needed to run these tests: its values were
computed once, by hand, with R 4.2.2 and survival 3.5.3 (Debian r-base-core, r-cran-survival)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import (defection_hazard, defection_rate_by, follow_up_effect, loyalty_levels, loyalty_movement,
                      retention_curve, revenue_at_risk)
from analysis.retention import retained_at
from tests.conftest import ROOT

LUNG = ROOT / "tests" / "data" / "lung.csv"


@pytest.fixture(scope="module")
def lung():
    frame = pd.read_csv(LUNG)
    frame["died"] = (frame["status"] == 2).astype(int)
    return frame


# R: fit <- survfit(Surv(time, status) ~ 1, data = lung)        # conf.type = "log", the default
#    summary(fit, times = c(100, 200, 365, 500, 750))            # options(digits = 12)
R_LOG = {  # time: (n.risk, surv, lower, upper)
    100: (196, 0.8639689676452, 0.8205848920813, 0.909646746190),
    200: (144, 0.6802728622230, 0.6219071502620, 0.744116170528),
    365: (65, 0.4092416244601, 0.3447215817958, 0.485837603547),
    500: (41, 0.2932691937116, 0.2319821382624, 0.370747595588),
    750: (10, 0.0978941601377, 0.0574773180571, 0.166731276145),
}
# R: fit <- survfit(Surv(time, status) ~ 1, data = lung, conf.type = "plain")
#    s <- summary(fit, times = c(100, 200, 365, 500, 750)); s$std.err, s$lower, s$upper
R_PLAIN = {  # time: (std.err, lower, upper)
    100: (0.0227102304342, 0.8194577339137, 0.908480201377),
    200: (0.0311345716580, 0.6192502230993, 0.741295501347),
    365: (0.0358236381720, 0.3390285838477, 0.479454665072),
    500: (0.0350778184986, 0.2245179327980, 0.362020454625),
    750: (0.0265965586971, 0.0457658629786, 0.150022457297),
}
# R: summary(survfit(Surv(time, status) ~ sex, data = lung, conf.type = "plain"), times = c(180, 365))
R_BY_SEX = {(1, 180): (89, 0.644465001542, 0.564525077316, 0.724404925767),
            (1, 365): (35, 0.336087834639, 0.250979164430, 0.421196504849),
            (2, 180): (71, 0.842401705588, 0.766588419195, 0.918214991981),
            (2, 365): (30, 0.526463030186, 0.409380947815, 0.643545112557)}


def at_risk_at(frame, t):
    return int((frame["time"] >= t).sum())


def test_kaplan_meier_and_greenwood_log_intervals_agree_with_r_survfit(lung):
    curve = retention_curve(lung["time"], lung["died"])
    assert curve["n"].iloc[0] == 228 and curve["defected"].sum() == 165  # print(fit): n 228, events 165
    read = retained_at(curve, list(R_LOG)).set_index("time")
    for t, (n_risk, surv, lower, upper) in R_LOG.items():
        assert at_risk_at(lung, t) == n_risk
        assert read.loc[t, "retained"] == pytest.approx(surv, abs=1e-6)
        assert read.loc[t, "low"] == pytest.approx(lower, abs=1e-6)
        assert read.loc[t, "high"] == pytest.approx(upper, abs=1e-6)


def test_greenwood_standard_errors_and_plain_intervals_agree_with_r_survfit(lung):
    read = retained_at(retention_curve(lung["time"], lung["died"], interval="plain"), list(R_PLAIN)).set_index("time")
    for t, (se, lower, upper) in R_PLAIN.items():
        assert read.loc[t, "se"] == pytest.approx(se, abs=1e-6)
        assert read.loc[t, "low"] == pytest.approx(lower, abs=1e-6)
        assert read.loc[t, "high"] == pytest.approx(upper, abs=1e-6)


def test_curves_by_group_agree_with_r_survfit_by_sex(lung):
    curve = retention_curve(lung["time"], lung["died"], groups=lung["sex"], interval="plain")
    for (sex, t), (n_risk, surv, lower, upper) in R_BY_SEX.items():
        own = curve[curve["group"] == sex]
        row = retained_at(own, [t]).iloc[0]
        assert at_risk_at(lung[lung["sex"] == sex], t) == n_risk
        assert row["retained"] == pytest.approx(surv, abs=1e-6)
        assert (row["low"], row["high"]) == pytest.approx((lower, upper), abs=1e-6)
    # the numbers at risk in the curve are those just before each defection time
    first = curve[curve["group"] == 1].iloc[0]
    assert first["at_risk"] == at_risk_at(lung[lung["sex"] == 1], first["time"])


# R: cox <- coxph(Surv(time, status) ~ sex + age, data = lung, ties = "efron"); summary(cox)
R_COX = {"sex": (0.598565980407, 0.431093578804, 0.831098514374, 0.16745796235577),
         "age": (1.017191432445, 0.998968580290, 1.035746699800, 0.00922327347697)}
# R: coxph(Surv(time, status) ~ sex + age + ph.ecog, data = lung, ties = "efron"): n = 227 (one missing ph.ecog)
R_COX_ECOG = {"sex": (0.57544455619, 0.414213018549, 0.799435127387),
              "age": (1.01112822772, 0.992928097170, 1.029661962242),
              "ph.ecog": (1.58999119005, 1.272675177774, 1.986423581288)}


def test_cox_hazard_ratios_agree_with_r_coxph_efron(lung):
    result = defection_hazard(lung, "time", "died", ["sex", "age"])
    for term, (ratio, lower, upper, se) in R_COX.items():
        assert result.loc[term, "hazard_ratio"] == pytest.approx(ratio, abs=1e-4)
        assert result.loc[term, "low"] == pytest.approx(lower, abs=1e-4)
        assert result.loc[term, "high"] == pytest.approx(upper, abs=1e-4)
        assert result.loc[term, "se"] == pytest.approx(se, abs=1e-4)
    ecog = defection_hazard(lung, "time", "died", ["sex", "age", "ph.ecog"])
    assert int(ecog["n"].iloc[0]) == 227
    for term, (ratio, lower, upper) in R_COX_ECOG.items():
        assert ecog.loc[term, ["hazard_ratio", "low", "high"]].tolist() == pytest.approx([ratio, lower, upper],
                                                                                        abs=1e-4)


def test_a_text_covariate_is_coded_against_its_reference_level(lung):
    # sex as words with "female" as the reference: the hazard ratio of "male" is 1 / 0.598565980407 (R above)
    frame = lung.assign(sex=lung["sex"].map({1: "male", 2: "female"}))
    result = defection_hazard(frame, "time", "died", ["sex", "age"], reference={"sex": "female"})
    assert result.loc["sex=male", "hazard_ratio"] == pytest.approx(1 / 0.598565980407, abs=1e-4)
    with pytest.raises(ValueError, match="reference level"):
        defection_hazard(frame, "time", "died", ["sex"], reference={"sex": "other"})


def test_defection_rates_use_statsmodels_wilson_intervals_over_customers_whose_fate_is_known():
    # detractors: 10 defect within 365 days, 20 stay past it, 5 observed under a year and still there
    frame = pd.DataFrame({
        "days": [100] * 10 + [400] * 20 + [200] * 5 + [50] * 3 + [500] * 27,
        "left": [1] * 10 + [0] * 20 + [0] * 5 + [1] * 3 + [0] * 27,
        "category": ["detractor"] * 35 + ["promoter"] * 30})
    table = defection_rate_by(frame, "days", "left", "category", horizon=365).set_index("category")
    assert table.loc["detractor", ["n", "defected", "unknown"]].tolist() == [30, 10, 5]
    assert table.loc["promoter", ["n", "defected", "unknown"]].tolist() == [30, 3, 0]
    for category, k in (("detractor", 10), ("promoter", 3)):
        low, high = proportion_confint(k, 30, alpha=0.05, method="wilson")
        assert table.loc[category, "value"] == pytest.approx(100 * k / 30)
        assert table.loc[category, ["low", "high"]].tolist() == pytest.approx([100 * low, 100 * high], abs=1e-9)
    # a 90-day horizon: the 100-day defections are after it, so they count as retained
    short = defection_rate_by(frame, "days", "left", "category", horizon=90).set_index("category")
    assert short.loc["detractor", "defected"] == 0 and short.loc["promoter", "defected"] == 3


def test_revenue_at_risk_is_the_remaining_book_times_the_rate_and_its_interval():
    frame = pd.DataFrame({"days": [30, 400, 400, 400, 100, 500], "left": [1, 0, 0, 0, 1, 0],
                          "value": [99.0, 100.0, 200.0, 300.0, 50.0, 1000.0], "tier": ["Gold"] * 4 + ["Bronze"] * 2})
    table = revenue_at_risk(frame, "value", "days", "left", "tier").set_index("tier")
    low, high = proportion_confint(1, 4, method="wilson")  # Gold: 1 of 4 defected; book 600 (the three left)
    assert table.loc["Gold", "book"] == 600 and table.loc["Gold", "customers"] == 3
    assert table.loc["Gold", "at_risk"] == pytest.approx(150.0)
    assert table.loc["Gold", ["at_risk_low", "at_risk_high"]].tolist() == pytest.approx([600 * low, 600 * high])


def test_loyalty_levels_and_movement_between_periods():
    levels = loyalty_levels([1.0, 0.5, 0.49, 0.1, 0.0], [9, 8, 10, 6, 10])
    assert levels.tolist()[:4] == ["loyal", "regular", "regular", "casual"] and pd.isna(levels.iloc[4])
    frame = pd.DataFrame({"customer": [1, 1, 2, 2, 3, 3, 4],
                          "period": ["2025", "2026"] * 3 + ["2025"],
                          "level": ["casual", "loyal", "casual", "left", "loyal", "loyal", "casual"]})
    moves = loyalty_movement(frame, "customer", "period", "level")
    as_dict = {(r.from_level, r.to_level): (r.customers, r.share) for r in moves.itertuples()}
    # three casual customers in 2025: one became loyal, one left, one did not buy in 2026 (1/3 each)
    assert as_dict == {("casual", "inactive"): (1, 33.3), ("casual", "left"): (1, 33.3),
                       ("casual", "loyal"): (1, 33.3), ("loyal", "loyal"): (1, 100.0)}


def test_follow_up_effect_is_the_mantel_haenszel_difference_over_matched_strata():
    # Hand-worked: stratum A: resolved 2/10 defected, not 4/10; stratum B: resolved 1/20, not 3/5;
    # stratum C has resolved customers only and is left out of the difference.
    # w_A = 10*10/20 = 5, w_B = 20*5/25 = 4; RD = (5*(-0.2) + 4*(0.05-0.6)) / 9 = -3.2 / 9 = -0.35556
    # Var = (25*(0.2*0.8/10 + 0.4*0.6/10) + 16*(0.05*0.95/20 + 0.6*0.4/5)) / 81
    rows = ([("A", 1, 1)] * 2 + [("A", 1, 0)] * 8 + [("A", 0, 1)] * 4 + [("A", 0, 0)] * 6
            + [("B", 1, 1)] * 1 + [("B", 1, 0)] * 19 + [("B", 0, 1)] * 3 + [("B", 0, 0)] * 2 + [("C", 1, 0)] * 7)
    frame = pd.DataFrame(rows, columns=["band", "resolved", "left"])
    effect = follow_up_effect(frame, "resolved", "left", ["band"])
    variance = (25 * (0.016 + 0.024) + 16 * (0.05 * 0.95 / 20 + 0.048)) / 81
    assert effect.difference.difference == pytest.approx(-100 * 3.2 / 9)
    assert effect.difference.high - effect.difference.low == pytest.approx(2 * 1.959964 * 100 * np.sqrt(variance),
                                                                           rel=1e-5)
    assert (effect.strata, effect.matched) == (2, 45)
    assert effect.resolved.n == 37 and effect.resolved.value == pytest.approx(100 * 3 / 37)
    assert effect.not_resolved.n == 15 and effect.not_resolved.value == pytest.approx(100 * 7 / 15)


@pytest.mark.parametrize("call, message", [
    (lambda: retention_curve([1, -2], [1, 0]), "durations must be >= 0"),
    (lambda: retention_curve([1, 2], [1, 2]), "events must be 0/1"),
    (lambda: retention_curve([1, 2], [1, 0], interval="wide"), "interval must be one of"),
    (lambda: defection_hazard(pd.DataFrame({"t": [1, 2], "e": [0, 0], "x": [1, 2]}), "t", "e", ["x"]),
     "no defections"),
    (lambda: defection_rate_by(pd.DataFrame({"t": [1], "e": [0], "g": ["a"]}), "t", "e", "g", horizon=0),
     "horizon must be"),
    (lambda: defection_rate_by(pd.DataFrame({"t": [1], "e": [0]}), "t", "e", "segment"), "segment"),
])
def test_bad_inputs_are_refused_with_a_message_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
