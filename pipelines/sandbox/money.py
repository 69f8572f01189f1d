"""Money as integer cents inside the sandbox, JSON numbers with two decimals outside.

Rates and tax rates may carry more decimals, as at Clio: a rate of 312.125 an hour, or
Quebec's 9.975% sales tax on a CAD bill; amounts are still whole cents.
"""

from __future__ import annotations


def to_number(cents: int) -> float:
    """Cents as the JSON number Clio sends (`12345` -> `123.45`)."""
    return round(cents / 100, 2)


def to_cents(number: float | int | None) -> int:
    """A JSON money number as cents (`None` counts as zero)."""
    return 0 if number is None else round(number * 100)


def time_value(rate: float, seconds: int) -> int:
    """Cents earned in `seconds` at hourly `rate`, rounded down (a rate may hold tenths of
    a cent: 312.125 an hour for 6 minutes is 3121 cents)."""
    return round(rate * 1000) * seconds // 36_000


TAX_RATES: dict[str, tuple[float, float]] = {"CAD": (5.0, 9.975)}  # GST and Quebec's QST, in %


def tax_rates(currency_code: str) -> tuple[float, float]:
    """A bill's (tax_rate, secondary_tax_rate) in percent. Lines are never taxable here,
    so a rate is shown on the bill and taxes nothing."""
    return TAX_RATES.get(currency_code, (0.0, 0.0))


def split(total: int, weights: list[int]) -> list[int]:
    """Split `total` cents in proportion to `weights`, exactly (largest remainders).

    >>> split(100, [1, 1, 1])
    [34, 33, 33]
    """
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1) if weights else []
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares
