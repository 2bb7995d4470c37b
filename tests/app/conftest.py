"""Fixtures of the invoicing core tests: the demo data and logged-in browsers for each company."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from b2binvoice.companies.models import Company
from b2binvoice.core.demo import seed_demo


@pytest.fixture
def seeded(db):
    """Seed the demo data (Lingua Demo S.L. with user demo, Other Translations Ltd with user other)."""
    return seed_demo()


@pytest.fixture
def lingua(seeded) -> Company:
    return Company.objects.get(name="Lingua Demo S.L.")


@pytest.fixture
def other_company(seeded) -> Company:
    return Company.objects.get(name="Other Translations Ltd")


@pytest.fixture
def demo_user(seeded):
    return get_user_model().objects.get(username="demo")


@pytest.fixture
def demo_web(seeded) -> HttpClient:
    """A browser logged in as demo through the login form."""
    browser = HttpClient()
    response = browser.post("/login/", {"username": "demo", "password": "demo"})
    assert response.status_code == 302, response.content
    return browser


@pytest.fixture
def other_web(seeded) -> HttpClient:
    browser = HttpClient()
    assert browser.login(username="other", password="other")
    return browser
