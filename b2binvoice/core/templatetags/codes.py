"""Template filters naming ISO codes in the page's language: ``{{ client.country|country_name }}``."""

from __future__ import annotations

from django import template

from b2binvoice.core.choices import country_label, language_label

register = template.Library()


@register.filter
def country_name(code: str | None) -> str:
    """"España" for "ES" in Spanish; an unknown code as it is."""
    return country_label(code) if code else ""


@register.filter
def language_name(code: str | None) -> str:
    """"Alemán" for "de" in Spanish; an unknown code as it is."""
    return language_label(code) if code else ""
