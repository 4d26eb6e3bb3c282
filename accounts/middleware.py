from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_OTP_REQUIRED = "strongroom_otp_required"
# Reachable before the second factor is given.
OPEN_PATH_PREFIXES = ("/accounts/login/", "/accounts/verify/", "/accounts/logout/",
                      "/static/", "/api/")


class RequireVerifiedOTPMiddleware:
    """A user who enrolled a TOTP device reaches nothing until the code is given."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (request.user.is_authenticated and request.session.get(SESSION_OTP_REQUIRED)
                and not request.user.is_verified()
                and not request.path.startswith(OPEN_PATH_PREFIXES)):
            return redirect(f"{reverse('accounts:verify')}?{urlencode({'next': request.path})}")
        return self.get_response(request)
