from functools import wraps

from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import selectors, services
from accounts.decorators import mark_recent_auth, require_sudo_mode
from accounts.forms import (ApiTokenForm, ReauthForm, TeamForm, TokenForm, UserCreateForm,
                            UserUpdateForm)
from accounts.middleware import SESSION_OTP_REQUIRED
from accounts.otp import otp_verify
from accounts.models import ApiToken, Team, TotpDevice
from accounts.roles import role_of
from ha.router import ReadOnlyNode, is_read_only_node, read_only_reason
from strongroom.keyset import BadCursor
from strongroom.web import add_service_errors

User = get_user_model()


def _safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        mark_recent_auth(self.request)
        if services.user_has_otp(self.request.user):
            self.request.session[SESSION_OTP_REQUIRED] = True
            query = urlencode({"next": self.get_success_url()})
            return redirect(f"{reverse('accounts:verify')}?{query}")
        return response


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp_verify(user=request.user, token=form.cleaned_data["token"],
                            request=request)
        if device is None:
            form.add_error("token", "That code is not valid. After a wrong code, wait a "
                                    "few seconds before the next try.")
        else:
            otp_login(request, device)
            return redirect(_safe_next(request))
    return render(request, "accounts/verify.html", {"form": form, "next": _safe_next(request)})


def _password_confirmed(request, form: ReauthForm) -> bool:
    """The signed-in user typed their password again (through authenticate, so a wrong
    one counts towards the lockout); otherwise the form says so."""
    if not form.is_valid():
        return False
    user = authenticate(request, username=request.user.get_username(),
                        password=form.cleaned_data["password"])
    if user is None or user.pk != request.user.pk:
        form.add_error("password", "That password is not right.")
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def reauth(request):
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and _password_confirmed(request, form):
        mark_recent_auth(request)
        return redirect(_safe_next(request))
    return render(request, "accounts/reauth.html", {"form": form, "next": _safe_next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Enrol an authenticator app: show the QR code of a pending device, confirm a code."""
    device = TotpDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = services.totp_device_start(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_device_confirm(user=request.user, device=device,
                                         token=form.cleaned_data["token"], request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            otp_login(request, device)
            request.session[SESSION_OTP_REQUIRED] = True
            messages.success(request, "Two-factor authentication is on for your account.")
            return redirect("accounts:profile")
    response = render(request, "accounts/otp_setup.html",
                      {"form": form, "device": device, "config_url": device.config_url})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def otp_turn_off(request):
    """The user's own two-factor off, only with the password typed again here: a session
    left open must not be enough to weaken the account."""
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and _password_confirmed(request, form):
        services.totp_turn_off(user=request.user, request=request)
        mark_recent_auth(request)
        request.session.pop(SESSION_OTP_REQUIRED, None)
        messages.success(request, "Two-factor authentication is off for your account.")
        return redirect("accounts:profile")
    return render(request, "accounts/otp_off.html", {"form": form})


@login_required
def profile(request):
    return render(request, "accounts/profile.html", {
        "has_otp": services.user_has_otp(request.user), "role": role_of(request.user),
        "tokens": request.user.api_tokens.filter(revoked_at__isnull=True),
        "token_form": ApiTokenForm(), "otp_off_form": ReauthForm()})


def _refused_on_a_read_only_node(view):
    """A token form posted where nothing can be written (a page loaded before a
    switchover, a script) gets the read-only answer every write gets (503), saying
    that no token was made, before any password is asked for in vain."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if is_read_only_node():
            raise ReadOnlyNode(f"No API token was created: {read_only_reason()} Create "
                               f"tokens on the primary; they work here once replicated.")
        return view(request, *args, **kwargs)
    return wrapper


@login_required
@require_POST
@_refused_on_a_read_only_node
@require_sudo_mode  # a token reveals passwords for its whole life: ask like a reveal
def token_create(request):
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.api_token_create(user=request.user, request=request,
                                                   **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            response = render(request, "accounts/token_created.html",
                              {"raw_token": raw, "token": token})
            response["Cache-Control"] = "no-store"
            return response
    messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(user=request.user, token=token, request=request)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:profile")


@permission_required("accounts.manage_users", raise_exception=True)
def user_list(request):
    try:
        page = selectors.user_page(cursor=request.GET.get("page", ""))
    except BadCursor as exc:
        messages.warning(request, f"{exc} Showing the first page.")
        page = selectors.user_page()
    roles = selectors.roles_of(page.rows)
    return render(request, "accounts/user_list.html", {
        "page": page, "users": [(user, roles[user.pk]) for user in page.rows],
        "teams": selectors.teams_with_sizes()})


@permission_required("accounts.manage_users", raise_exception=True)
@require_http_methods(["GET", "POST"])
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(admin=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"User {user.username} created.")
            return redirect("accounts:user_list")
    return render(request, "vault/form.html", {"form": form, "title": "New user"})


@permission_required("accounts.manage_users", raise_exception=True)
@require_http_methods(["GET", "POST"])
@require_sudo_mode  # a role change grants or takes away every administrator power
def user_edit(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = UserUpdateForm(request.POST or None,
                          initial={"role": role_of(user), "is_active": user.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(admin=request.user, user=user, request=request,
                                 **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"User {user.username} saved.")
            return redirect("accounts:user_list")
    return render(request, "accounts/user_edit.html", {
        "form": form, "title": f"Edit {user.username}", "edited": user,
        "has_otp": services.user_has_otp(user)})


def _not_on_oneself(*, instead: str, message: str):
    """Refuse an administrator's reset of her own password or two-factor: it would
    weaken her account without the password that her own page asks for (`instead`)."""
    def decorator(view):
        @wraps(view)
        def wrapper(request, pk: int, *args, **kwargs):
            if pk == request.user.pk:
                messages.error(request, message)
                return redirect(instead)
            return view(request, pk, *args, **kwargs)
        return wrapper
    return decorator


@permission_required("accounts.manage_users", raise_exception=True)
@require_POST
@_not_on_oneself(instead="accounts:otp_turn_off",
                 message="Your own two-factor authentication is turned off here, which "
                         "asks for your password; the Users page resets other people's.")
@require_sudo_mode  # it leaves the password alone between anyone and the account
def user_otp_reset(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    if services.totp_reset(admin=request.user, user=user, request=request):
        messages.success(request, f"Two-factor authentication of {user.username} is reset: "
                                  f"their password alone lets them in until they turn it on.")
    else:
        messages.info(request, f"{user.username} had no two-factor device.")
    return redirect("accounts:user_list")


@permission_required("accounts.manage_users", raise_exception=True)
@require_http_methods(["GET", "POST"])
def team_edit(request, pk: int | None = None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    initial = {"name": team.name, "members": team.members.all()} if team else {}
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_save(admin=request.user, team=team, request=request,
                               **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Team saved.")
            return redirect("accounts:user_list")
    return render(request, "vault/form.html", {"form": form, "title": "Team"})


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_password_change(user=request.user, request=request,
                                      new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)  # this session stays valid
        mark_recent_auth(request)
        messages.success(request, "Your password is changed.")
        return redirect("accounts:profile")
    return render(request, "vault/form.html", {"form": form, "title": "Change your password"})


@permission_required("accounts.manage_users", raise_exception=True)
@require_http_methods(["GET", "POST"])
# Refused before the re-authentication: no password typed there makes it right.
@_not_on_oneself(instead="accounts:password_change",
                 message="Your own password is changed here, under Change your "
                         "password, which asks for your current password; the Users "
                         "page resets other people's.")
@require_sudo_mode  # setting someone's password is taking over their account
def user_password_reset(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_password_reset(admin=request.user, user=user, request=request,
                                         new_password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"The password of {user.username} is reset; their "
                                      f"sessions have ended.")
            return redirect("accounts:user_list")
    return render(request, "vault/form.html",
                  {"form": form, "title": f"Reset the password of {user.username}"})
