"""Template filters for the dashboard: quantities as people read them."""

from __future__ import annotations

from django import template

register = template.Library()

_BINARY = (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


@register.filter
def cores(millicores: int | None) -> str:
    """Millicores as cores, with fewer decimals as numbers grow: ``1500`` → ``1.5``,
    ``250`` → ``0.25``, ``4000`` → ``4``, ``56225`` → ``56.2``, ``510950`` → ``511``."""
    value = (millicores or 0) / 1000
    decimals = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


@register.filter
def binary_bytes(value: int | None) -> str:
    """Bytes with Kubernetes' binary suffixes, one decimal at most: ``3221225472`` → ``3Gi``,
    ``1610612736`` → ``1.5Gi``, ``512`` → ``512``."""
    amount = value or 0
    for suffix, size in _BINARY:
        if amount >= size:
            return f"{amount / size:.1f}".removesuffix(".0") + suffix
    return str(amount)


@register.filter
def speed(value: float) -> str:
    """A clock speed: ``0.25`` → ``0.25×``, ``1.0`` → ``1×``."""
    return f"{value:g}×"
