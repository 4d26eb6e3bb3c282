"""Users, roles, teams, API tokens and two-factor devices."""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import ApiToken, Team, TotpDevice
from accounts.roles import ROLES, role_of
from audit.services import Action, audit_record
from ha.router import ReadOnlyNode, is_read_only_node
from strongroom import rows

User = get_user_model()
TOKEN_PREFIX = "sr_"


def _require_manager(admin) -> None:
    if not admin.has_perm("accounts.manage_users"):
        raise PermissionDenied("Only administrators manage users, roles and teams.")


def _set_role(user, role: str) -> None:
    if role not in ROLES:
        raise ValidationError({"role": "Choose one of the listed roles."})
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))


@transaction.atomic
def user_create(*, admin, username: str, email: str, role: str, password: str,
                request: HttpRequest | None = None):
    _require_manager(admin)
    username = username.strip()
    if not username:
        raise ValidationError({"username": "Enter a user name."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "A user with that name already exists."})
    if role not in ROLES:
        raise ValidationError({"role": "Choose one of the listed roles."})
    user = User(username=username, email=email.strip())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    _set_role(user, role)
    audit_record(action=Action.USER_CREATE, actor=admin, request=request, target=user,
                 detail={"role": role})
    return user


@transaction.atomic
def user_update(*, admin, user, role: str, is_active: bool,
                request: HttpRequest | None = None):
    _require_manager(admin)
    if user.pk == admin.pk and (not is_active or role != role_of(user)):
        raise ValidationError("You cannot change your own role or deactivate yourself.")
    old_role = role_of(user)
    if role != old_role:
        _set_role(user, role)
        audit_record(action=Action.ROLE_CHANGE, actor=admin, request=request, target=user,
                     detail={"from": old_role, "to": role})
    if is_active != user.is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        audit_record(action=Action.USER_UPDATE, actor=admin, request=request, target=user,
                     detail={"is_active": is_active})
    return user


@transaction.atomic
def team_save(*, admin, name: str, members, team: Team | None = None,
              request: HttpRequest | None = None) -> Team:
    _require_manager(admin)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a team name."})
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk if team else None).exists():
        raise ValidationError({"name": "A team with that name already exists."})
    team = team or Team()
    team.name = name
    team.save()
    team.members.set(members)
    audit_record(action=Action.TEAM_CHANGE, actor=admin, request=request, target=team,
                 detail={"members": sorted(u.get_username() for u in members)})
    return team


def _set_password(*, user, new_password: str) -> None:
    # Django's forms validated it already; a caller without a form is held to the same.
    if is_read_only_node():
        raise ReadOnlyNode()
    validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])


@transaction.atomic
def user_password_change(*, user, new_password: str,
                         request: HttpRequest | None = None) -> None:
    """A user sets their own password (the view checked the current one)."""
    _set_password(user=user, new_password=new_password)
    audit_record(action=Action.USER_UPDATE, actor=user, request=request, target=user,
                 detail={"password": "changed"})


@transaction.atomic
def user_password_reset(*, admin, user, new_password: str,
                        request: HttpRequest | None = None) -> None:
    """An administrator sets someone's password; their sessions end with the old hash.
    Never her own: that goes through user_password_change, after the current one."""
    _require_manager(admin)
    if user.pk == admin.pk:
        raise ValidationError("Change your own password under Change your password: it "
                              "asks for the current one.")
    _set_password(user=user, new_password=new_password)
    audit_record(action=Action.USER_UPDATE, actor=admin, request=request, target=user,
                 detail={"password": "reset"})


# --- API tokens ---------------------------------------------------------------------------

def token_hash(raw_token: str) -> str:
    # A plain SHA-256 is enough: the token is 256 random bits, not a password.
    return hashlib.sha256(raw_token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, days: int | None = None,
                     request: HttpRequest | None = None) -> tuple[ApiToken, str]:
    """Returns the token and its raw value, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name (what script uses it)."})
    days = days or settings.API_TOKEN_DEFAULT_DAYS
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"days": f"A token is valid for 1 to {settings.API_TOKEN_MAX_DAYS} days."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:10],
                                    token_hash=token_hash(raw),
                                    expires_at=timezone.now() + timedelta(days=days))
    audit_record(action=Action.TOKEN_CREATE, actor=user, request=request, target=token,
                 detail={"expires_at": token.expires_at.isoformat()})
    return token, raw


@transaction.atomic
def api_token_revoke(*, user, token: ApiToken, request: HttpRequest | None = None) -> None:
    if token.user_id != user.pk:
        raise PermissionDenied("This is not your token.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(action=Action.TOKEN_REVOKE, actor=user, request=request, target=token)


def api_token_user(raw_token: str):
    """The active user a live (not expired, not revoked) raw token belongs to, or None."""
    return api_token_user_with(raw_token)[0]


def api_token_user_with(raw_token: str, *, columns: str = "", joins: str = "",
                        params: tuple = ()) -> tuple:
    """api_token_user, and further `columns` read in the same statement from `joins`
    (LEFT JOINs that may use the user as `u`; `params` are theirs): one round trip for
    the token and what the request is about (issue 12). The further values are () when
    the token does not authenticate, so a refusal says nothing about them."""
    using = router.db_for_read(ApiToken)
    with connections[using].cursor() as cursor:
        cursor.execute(_live_token_sql(columns, joins),
                       [*params, token_hash(raw_token),
                        rows.param(ApiToken, "expires_at", timezone.now())])
        row = cursor.fetchone()  # token_hash is unique
    if row is None:
        return None, ()
    token = rows.instance(ApiToken, using, row)
    token.user = rows.instance(User, using, row, start=rows.width(ApiToken))
    if not token.user.is_active:
        return None, ()
    _note_token_use(token)
    return token.user, row[rows.width(ApiToken) + rows.width(User):]


@functools.cache
def _live_token_sql(columns: str = "", joins: str = "") -> str:
    """ApiToken.objects.select_related("user").filter(token_hash=…, revoked_at=None,
    expires_at__gt=now), written once (strongroom.rows)."""
    return (f"SELECT {rows.columns(ApiToken, 't')}, {rows.columns(User, 'u')}"
            f"{', ' + columns if columns else ''} "
            f"FROM {rows.table(ApiToken)} t JOIN {rows.table(User)} u "
            f"ON u.{User._meta.pk.column} = t.{ApiToken._meta.get_field('user').column} "
            f"{joins + ' ' if joins else ''}"
            f"WHERE t.token_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s")


def _note_token_use(token: ApiToken) -> None:
    """Last use, to the resolution its owner needs: at most one conditional UPDATE per
    interval (concurrent requests cannot all write), none on a read-only node, where
    the token row is replicated and must not be written."""
    if is_read_only_node():
        return
    now = timezone.now()
    stale = now - timedelta(seconds=settings.API_TOKEN_LAST_USED_SECONDS)
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    (ApiToken.objects.filter(pk=token.pk)
     .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
     .update(last_used_at=now))


# --- Two-factor (TOTP, django-otp) ----------------------------------------------------------

@transaction.atomic
def totp_device_start(*, user) -> TotpDevice:
    """An unconfirmed device for enrolment; replaces an earlier unconfirmed one."""
    TotpDevice.objects.filter(user=user, confirmed=False).delete()
    device = TotpDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    device.seal_new_seed()
    device.save(update_fields=["key_ct", "key_id"])
    return device


@transaction.atomic
def totp_device_confirm(*, user, device: TotpDevice, token: str,
                        request: HttpRequest | None = None) -> None:
    if device.user_id != user.pk or device.confirmed:
        raise PermissionDenied("This enrolment is not pending for you.")
    if not device.verify_token(token.strip()):
        raise ValidationError({"token": "That code is not valid; check the clock of your device."})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TotpDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    audit_record(action=Action.OTP_ENROLLED, actor=user, request=request, target=user)


def _totp_devices_remove(*, actor, user, by: str, request: HttpRequest | None) -> int:
    # Refused before anything is written on a read-only node (the router would refuse the
    # delete too), so no audit row is ever made for a removal that did not happen.
    if is_read_only_node():
        raise ReadOnlyNode()
    _, deleted = TotpDevice.objects.filter(user=user).delete()
    removed = deleted.get(TotpDevice._meta.label, 0)
    if removed:
        audit_record(action=Action.OTP_REMOVED, actor=actor, request=request, target=user,
                     detail={"devices": removed, "by": by})
    return removed


@transaction.atomic
def totp_reset(*, admin, user, request: HttpRequest | None = None) -> int:
    """An administrator removes every TOTP device of `user` (a lost phone); the password
    alone lets them in until they enrol again. Returns how many devices were removed."""
    _require_manager(admin)
    return _totp_devices_remove(actor=admin, user=user, by="administrator", request=request)


@transaction.atomic
def totp_turn_off(*, user, request: HttpRequest | None = None) -> int:
    """A user turns their own two-factor off (the view checked the password again)."""
    return _totp_devices_remove(actor=user, user=user, by="self", request=request)


def user_has_otp(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed=True).exists()
