import time
from functools import wraps

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_AUTH_AT = "strongroom_auth_at"


def mark_recent_auth(request) -> None:
    request.session[SESSION_AUTH_AT] = int(time.time())


def _require_auth_within(window_setting: str):
    """A view that asks for the password again when the last one typed in this session
    (at login or on the re-authentication page) is older than the setting's seconds."""
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            window = getattr(settings, window_setting)
            if window and time.time() - request.session.get(SESSION_AUTH_AT, 0) > window:
                back = request.META.get("HTTP_REFERER") or request.path
                return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': back})}")
            return view(request, *args, **kwargs)
        return wrapper
    return decorator


# Reveals and the account edit page (it shows the notes): off unless an operator sets it.
require_recent_auth = _require_auth_within("REVEAL_REAUTH_SECONDS")
# What takes over an account or silences the alerts (healthchecks' sudo mode): on by default.
require_sudo_mode = _require_auth_within("SENSITIVE_REAUTH_SECONDS")
