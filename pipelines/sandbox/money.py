"""Money as integer cents inside the sandbox, JSON numbers with two decimals outside."""

from __future__ import annotations


def to_number(cents: int) -> float:
    """Cents as the JSON number Clio sends (`12345` -> `123.45`)."""
    return round(cents / 100, 2)


def to_cents(number: float | int | None) -> int:
    """A JSON money number as cents (`None` counts as zero)."""
    return 0 if number is None else round(number * 100)


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
