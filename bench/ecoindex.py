"""The EcoIndex score (https://www.ecoindex.fr), implemented from its published definition.

Three inputs of a page: DOM elements, HTTP requests and transferred size (KB). Each is
placed on the quantiles of the HTTP Archive pages the method was calibrated on (linear
interpolation between two quantiles, giving a position from 0 to 20); the score is
100 − 5 × (3·q_dom + 2·q_requests + q_size) / 6, from 100 (best) to 0. Grades: A above 80,
B above 70, C above 55, D above 40, E above 25, F above 10, else G. Greenhouse gases
(gCO2e) = 2 + 2 × (50 − score) / 100 and water (cl) = 3 + 3 × (50 − score) / 100. As in
the reference implementation, the score is rounded to an integer before the grade, the
gases and the water are derived from it.
"""

QUANTILES_DOM = (
    0,
    47,
    75,
    159,
    233,
    298,
    358,
    417,
    476,
    537,
    603,
    674,
    753,
    843,
    949,
    1076,
    1237,
    1459,
    1801,
    2479,
    594601,
)
QUANTILES_REQUESTS = (
    0,
    2,
    15,
    25,
    34,
    42,
    49,
    56,
    63,
    70,
    78,
    86,
    95,
    105,
    117,
    130,
    147,
    170,
    205,
    281,
    3920,
)
QUANTILES_SIZE_KB = (
    0,
    1.37,
    144.7,
    319.53,
    479.46,
    631.97,
    783.38,
    937.91,
    1098.62,
    1265.47,
    1448.32,
    1648.27,
    1876.08,
    2142.06,
    2465.37,
    2866.31,
    3401.59,
    4155.73,
    5400.08,
    8037.54,
    223212.26,
)
GRADES = (("A", 80), ("B", 70), ("C", 55), ("D", 40), ("E", 25), ("F", 10))


def quantile_position(quantiles, value: float) -> float:
    """Position of `value` on the quantile table, 0 to len - 1, interpolated."""
    for i in range(1, len(quantiles)):
        if value < quantiles[i]:
            return i - 1 + (value - quantiles[i - 1]) / (quantiles[i] - quantiles[i - 1])
    return len(quantiles) - 1


def score(dom: int, requests: int, size_kb: float) -> float:
    q_dom = quantile_position(QUANTILES_DOM, dom)
    q_requests = quantile_position(QUANTILES_REQUESTS, requests)
    q_size = quantile_position(QUANTILES_SIZE_KB, size_kb)
    return 100 - 5 * (3 * q_dom + 2 * q_requests + q_size) / 6


def grade(value: float) -> str:
    for letter, threshold in GRADES:
        if value > threshold:
            return letter
    return "G"


def ghg_g(value: float) -> float:
    return 2 + 2 * (50 - value) / 100


def water_cl(value: float) -> float:
    return 3 + 3 * (50 - value) / 100


def ecoindex(dom: int, requests: int, size_kb: float) -> dict:
    raw = score(dom, requests, size_kb)
    rounded = round(raw)
    return {
        "raw": raw,
        "score": rounded,
        "grade": grade(rounded),
        "ghg": ghg_g(rounded),
        "water": water_cl(rounded),
    }


def self_check():
    """Fixed points of the definition (the median page scores 50; the bounds 100 and 0)."""
    assert round(score(603, 78, 1448.32), 6) == 50, score(603, 78, 1448.32)
    assert score(0, 0, 0) == 100
    assert score(10**7, 10**5, 10**7) == 0
    assert grade(80.01) == "A" and grade(80) == "B" and grade(10) == "G"
    assert abs(score(47, 2, 1.37) - (100 - 5 * 6 / 6)) < 1e-9  # every input at quantile 1
