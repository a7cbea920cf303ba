"""Glossary tooltips and event reasons explained (``dashboard.glossary``).

``{% term "kubelet" %}`` prints the term as Kubernetes writes it, with its definition in the
reader's language as a tooltip (``title``) and for screen readers; ``{% term "container-runtime"
node.runtime %}`` prints another label for the same concept. ``{{ event.reason|reason_help }}``
is the explanation of an event reason, or "".
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from dashboard import glossary

register = template.Library()


@register.simple_tag
def term(key: str, label: str = ""):
    found = glossary.term(key)
    text = label or (found.name if found else key)
    if found is None:
        return text  # autoescaped by simple_tag
    return format_html(
        '<span class="term" data-term="{}" title="{}: {}" tabindex="0">{}</span>',
        found.key,
        found.name,
        found.definition,
        text,
    )


@register.filter
def reason_help(reason: str) -> str:
    return glossary.reason_help(reason)


@register.simple_tag
def glossary_terms():
    return glossary.TERMS
