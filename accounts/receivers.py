"""Login, logout, failed login and lockout are audited from the auth signals
(the only way to see logins made through any view, admin included)."""
from axes.signals import user_locked_out
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.services import Action, audit_record
from ha.router import is_read_only_node


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    audit_record(action=Action.LOGIN, actor=user, request=request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, request=request)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # credentials are already cleansed by Django; only the username is kept.
    locked_out = bool(getattr(request, "axes_locked_out", False))
    audit_record(action=Action.LOGIN_FAILED, actor_name=str(credentials.get("username", "")),
                 request=request, detail={"locked_out": True} if locked_out else {})


@receiver(user_locked_out)
def audit_lockout(sender, request, username, ip_address, **kwargs) -> None:
    # django-axes signals again on every attempt while locked; only the failure
    # that caused the lockout has counted failures on the request.
    if getattr(request, "axes_failures_since_start", None) is not None:
        audit_record(action=Action.LOCKOUT, actor_name=username or "", request=request)


def update_last_login_where_writable(sender, user, **kwargs) -> None:
    if not is_read_only_node():
        update_last_login(sender, user, **kwargs)
