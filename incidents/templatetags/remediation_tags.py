"""Formatting for remediation pages (their data comes from incidents.selectors.remediation)."""

from django import template
from django.utils.safestring import SafeString

from morgue.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """An item's Markdown description as sanitised HTML."""
    return render_markdown(text)
