"""Item 5: every way in goes through our login view and its one-time-code step;
there is no Django admin that could log a user in or change roles unaudited."""
import pytest
from django.urls import get_resolver

from accounts.middleware import OPEN_PATH_PREFIXES
from accounts.models import TotpDevice
from accounts.services import totp_device_start
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")


def test_the_django_admin_is_gone(client, alice):
    assert client.get("/django-admin/").status_code == 404
    assert client.get("/django-admin/login/").status_code == 404
    response = client.post("/django-admin/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 404
    assert "_auth_user_id" not in client.session


def test_no_admin_app_is_installed(settings):
    assert "django.contrib.admin" not in settings.INSTALLED_APPS


def _login_views() -> list[str]:
    """Every URL pattern whose view calls Django's login (LoginView and friends)."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                view = getattr(pattern.callback, "view_class", None)
                if view is not None and "LoginView" in [c.__name__ for c in view.__mro__]:
                    found.append(prefix + str(pattern.pattern))
    walk(get_resolver().url_patterns)
    return found


def test_our_login_view_is_the_only_login_path():
    assert _login_views() == ["accounts/login/"]


def test_a_user_with_totp_reaches_no_page_but_verify_after_the_password(client, bob):
    device = totp_device_start(user=bob)
    TotpDevice.objects.filter(pk=device.pk).update(confirmed=True)
    client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    for path in ("/", "/accounts/profile/", "/accounts/users/", "/audit/",
                 "/accounts/password/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/verify/"), path
    assert not any(prefix.startswith("/django-admin") for prefix in OPEN_PATH_PREFIXES)
