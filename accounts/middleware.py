from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.services import user_has_otp

SESSION_OTP_REQUIRED = "strongroom_otp_required"
# Reachable before the second factor is given.
OPEN_PATH_PREFIXES = ("/accounts/login/", "/accounts/verify/", "/accounts/logout/",
                      "/static/", "/api/")


class RequireVerifiedOTPMiddleware:
    """A user who enrolled a TOTP device reaches nothing until the code is given."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: an API request (a bearer token, no session) then never loads
        # a session user it does not use.
        if (not request.path.startswith(OPEN_PATH_PREFIXES)
                and request.user.is_authenticated
                and request.session.get(SESSION_OTP_REQUIRED)
                and not request.user.is_verified()
                and _still_has_two_factor(request)):
            return redirect(f"{reverse('accounts:verify')}?{urlencode({'next': request.path})}")
        return self.get_response(request)


def _still_has_two_factor(request) -> bool:
    """False, and the session's demand for a code dropped, once the user has no confirmed
    device any more (an administrator reset it, the user turned it off elsewhere, an
    operator deleted it): no code could ever be given, so the session would be stuck at
    the code page. Letting it on is safe: this session gave the password, which is all
    a fresh login of this account asks for now. A device enrolled later does not undo
    this for the session: it is asked for at the next login. Checked only here, for a
    session that is not verified, so a verified request costs no query."""
    if user_has_otp(request.user):
        return True
    request.session.pop(SESSION_OTP_REQUIRED, None)
    return False
