"""Every page carries a strict Content-Security-Policy (django-csp): scripts and styles
from this node only, nothing inline; and no template holds what it would block
(issue 19, item 8). The browser's side is in test_browser_reveal_hides.py."""
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

pytestmark = pytest.mark.django_db(databases="__all__")
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_pages_and_error_pages_carry_the_strict_policy(client, alice, root_account, settings):
    client.force_login(alice)
    pages = [client.get("/"), client.get("/accounts/profile/"), client.get("/no-such-page/")]
    settings.NODE_ROLE = "secondary"
    pages.append(client.post(f"/accounts/{root_account.pk}/password/",  # the read-only page
                             {"password": "new-one"}))
    assert [page.status_code for page in pages] == [200, 200, 404, 503]
    for page in pages:
        policy = _policy(page)
        assert policy["script-src"] == "script-src 'self'"
        assert policy["style-src"] == "style-src 'self'"
        assert policy["default-src"] == "default-src 'none'"
        assert "unsafe" not in page["Content-Security-Policy"]


def test_no_template_holds_an_inline_script_style_or_event_attribute():
    templates = Path(django_settings.BASE_DIR, "templates").rglob("*.html")
    offenders = [str(path) for path in templates if INLINE.search(path.read_text())]
    assert offenders == []


def test_a_refused_form_gets_a_page_without_inline_style():
    # Django's own CSRF failure page carries a <style> block the policy would refuse.
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 403 and "Content-Security-Policy" in response
    assert not INLINE.search(response.content.decode())
    assert "nothing was changed" in response.content.decode()
