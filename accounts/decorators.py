import time
from functools import wraps

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_AUTH_AT = "strongroom_auth_at"


def mark_recent_auth(request) -> None:
    request.session[SESSION_AUTH_AT] = int(time.time())


def require_recent_auth(view):
    """Ask for the password again when the last one is older than the configured window."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        window = settings.REVEAL_REAUTH_SECONDS
        if window and time.time() - request.session.get(SESSION_AUTH_AT, 0) > window:
            back = request.META.get("HTTP_REFERER") or request.path
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': back})}")
        return view(request, *args, **kwargs)
    return wrapper
