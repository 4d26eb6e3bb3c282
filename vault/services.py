"""Every change to the vault, and every reveal, goes through here and is audited."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import Action, audit_record
from strongroom import rows
from vault import datakeys, keyring, limits, passwords, sealing
from vault.models import (Account, AccountShare, PasswordPolicy, PasswordVersion, Permission,
                          Resource, ResourceShare)
from vault.selectors import account_permission, resource_permission

# --- Sealing values ------------------------------------------------------------------

def _seal(value: str, *, record: str, field: str, key: keyring.DataKey | None = None) -> bytes:
    return sealing.seal(value, record=record, field=field, key=key)[1]


def _open(blob: bytes, *, key_id: str, record: str, field: str) -> str:
    return sealing.open_value(blob, key_id=key_id, record=record, field=field)


def _seal_account(account: Account, *, password: str, notes: str,
                  key: keyring.DataKey | None = None) -> None:
    key = key or sealing.current_data_key()
    record = f"account:{account.pk}"
    account.key_id = key.key_id
    account.password_ct = _seal(password, record=record, field="password", key=key)
    account.notes_ct = _seal(notes, record=record, field="notes", key=key)


def account_password(account: Account) -> str:
    return _open(account.password_ct, key_id=account.key_id,
                 record=f"account:{account.pk}", field="password")


def account_notes(account: Account) -> str:
    return _open(account.notes_ct, key_id=account.key_id,
                 record=f"account:{account.pk}", field="notes")


def version_password(version: PasswordVersion) -> str:
    return _open(version.password_ct, key_id=version.key_id,
                 record=f"passwordversion:{version.pk}", field="password")


# --- Permissions ------------------------------------------------------------------------

def _require_resource(user, resource: Resource, wanted: str) -> None:
    _require(resource_permission(user=user, resource=resource), wanted)


def _require_account(user, account: Account, wanted: str) -> None:
    _require(account_permission(user=user, account=account), wanted)


def _require(granted: str | None, wanted: str) -> None:
    if granted is None or (wanted == Permission.MODIFY and granted != Permission.MODIFY):
        raise PermissionDenied("You do not have permission to do this.")


# --- Resources -------------------------------------------------------------------------------

def _clean_resource_fields(*, name: str, resource_type: str, address: str = "",
                           description: str = "", exclude_pk=None) -> None:
    limits.clean_text(name, field="name", max_length=limits.NAME_MAX)
    limits.clean_text(address, field="address", max_length=limits.ADDRESS_MAX)
    limits.clean_text(description, field="description", max_length=limits.NOTES_MAX,
                      multiline=True)
    if not name.strip():
        raise ValidationError({"name": "A resource needs a name."})
    if resource_type not in Resource.Type.values:
        raise ValidationError({"resource_type": "Choose one of the listed types."})
    if Resource.objects.filter(name=name.strip()).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": "A resource with this name already exists."})


@transaction.atomic
def resource_create(*, user, name: str, resource_type: str, address: str = "",
                    description: str = "", policy: PasswordPolicy | None = None,
                    request: HttpRequest | None = None) -> Resource:
    if not user.has_perm("vault.add_resource"):
        raise PermissionDenied("Your role may not create resources.")
    _clean_resource_fields(name=name, resource_type=resource_type, address=address,
                           description=description)
    resource = Resource.objects.create(name=name.strip(), resource_type=resource_type,
                                       address=address.strip(), description=description,
                                       policy=policy, owner=user)
    audit_record(action=Action.RESOURCE_CREATE, actor=user, request=request, target=resource)
    return resource


@transaction.atomic
def resource_update(*, user, resource: Resource, name: str, resource_type: str,
                    address: str, description: str, policy: PasswordPolicy | None,
                    request: HttpRequest | None = None) -> Resource:
    _require_resource(user, resource, Permission.MODIFY)
    _clean_resource_fields(name=name, resource_type=resource_type, address=address,
                           description=description, exclude_pk=resource.pk)
    changed = [f for f, v in (("name", name.strip()), ("resource_type", resource_type),
                              ("address", address.strip()), ("description", description),
                              ("policy", policy)) if getattr(resource, f) != v]
    resource.name, resource.resource_type = name.strip(), resource_type
    resource.address, resource.description, resource.policy = address.strip(), description, policy
    resource.save()
    audit_record(action=Action.RESOURCE_UPDATE, actor=user, request=request, target=resource,
                 detail={"changed": changed})
    return resource


@transaction.atomic
def resource_delete(*, user, resource: Resource, request: HttpRequest | None = None) -> None:
    _require_resource(user, resource, Permission.MODIFY)
    audit_record(action=Action.RESOURCE_DELETE, actor=user, request=request, target=resource,
                 detail={"accounts": resource.accounts.count()})
    resource.delete()


# --- Accounts -----------------------------------------------------------------------------------

def _clean_password(resource: Resource, password: str) -> None:
    limits.clean_text(password, field="password", max_length=limits.PASSWORD_MAX)
    if not password:
        raise ValidationError({"password": "Enter a password or generate one."})
    if resource.policy is not None:
        problems = passwords.violations(passwords.Rules.from_policy(resource.policy), password)
        if problems:
            raise ValidationError({"password": [f"Password {p} (policy "
                                                f"“{resource.policy.name}”)." for p in problems]})


def _clean_login_name(resource: Resource, login_name: str, exclude_pk=None) -> str:
    login_name = limits.clean_text(login_name, field="login_name",
                                   max_length=limits.NAME_MAX).strip()
    if not login_name:
        raise ValidationError({"login_name": "An account needs a login name."})
    if resource.accounts.filter(login_name=login_name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"login_name": "This resource already has that login name."})
    return login_name


def _clean_notes(notes: str) -> None:
    limits.clean_text(notes, field="notes", max_length=limits.NOTES_MAX, multiline=True)


def password_generate(*, resource: Resource | None = None) -> str:
    return passwords.generate(passwords.Rules.from_policy(resource.policy if resource else None))


@transaction.atomic
def account_create(*, user, resource: Resource, login_name: str, password: str,
                   notes: str = "", request: HttpRequest | None = None) -> Account:
    _require_resource(user, resource, Permission.MODIFY)
    login_name = _clean_login_name(resource, login_name)
    _clean_password(resource, password)
    _clean_notes(notes)
    account = Account(resource=resource, login_name=login_name, created_by=user,
                      password_changed_at=timezone.now())
    _seal_account(account, password=password, notes=notes)
    account.save(force_insert=True)
    audit_record(action=Action.ACCOUNT_CREATE, actor=user, request=request, target=account)
    return account


@transaction.atomic
def account_update(*, user, account: Account, login_name: str, notes: str,
                   request: HttpRequest | None = None) -> Account:
    """Change the login name and notes only. The row is locked and re-read first, and
    only the changed columns are written: a password changed since the caller loaded
    `account` (or while this runs) is kept, never sealed back from a stale copy."""
    _require_account(user, account, Permission.MODIFY)
    account.refresh_from_db(from_queryset=Account.objects.select_for_update())
    changed = []
    login_name = _clean_login_name(account.resource, login_name, exclude_pk=account.pk)
    _clean_notes(notes)
    if login_name != account.login_name:
        account.login_name = login_name
        changed.append("login_name")
    if notes != account_notes(account):
        # Under the row's own key, so password and notes stay under one key_id.
        sealing.seal_row(account, {"notes": notes}, key=datakeys.data_key(account.key_id))
        changed.append("notes_ct")
    if changed:
        account.save(update_fields=changed)
    audit_record(action=Action.ACCOUNT_UPDATE, actor=user, request=request, target=account,
                 detail={"changed": [f.removesuffix("_ct") for f in changed]})
    return account


_ACCOUNT_FIELDS_BUT_RESOURCE = [f.attname for f in Account._meta.concrete_fields
                                if f.name != "resource"]


_SEALED_FIELDS = ("key_id", "password_ct", "notes_ct", "password_changed_at")


@transaction.atomic
def password_change(*, user, account: Account, new_password: str,
                    request: HttpRequest | None = None) -> Account:
    """Set a new password; the old one moves to the history, re-sealed for its new row."""
    _require_account(user, account, Permission.MODIFY)
    _clean_password(account.resource, new_password)
    now = timezone.now()
    key = sealing.current_data_key()
    if not _password_replace(user=user, account=account, new_password=new_password,
                             now=now, key=key):
        # Changed since it was read: locked and re-read (all but the resource: an account
        # never moves, and the loaded one spares a query for the audit row's
        # description), the replacement cannot miss.
        account.refresh_from_db(from_queryset=Account.objects.select_for_update(),
                                fields=_ACCOUNT_FIELDS_BUT_RESOURCE)
        _password_replace(user=user, account=account, new_password=new_password, now=now,
                          key=key)
    audit_record(action=Action.PASSWORD_CHANGE, actor=user, request=request, target=account)
    return account


def _password_replace(*, user, account: Account, new_password: str, now, key) -> bool:
    """The sealed columns replaced only if they are still as read (a conditional UPDATE,
    which takes the row lock: no locked re-read before it, issue 12), then the old
    password into the history; False, with nothing written, if they changed since."""
    was = {name: getattr(account, name) for name in _SEALED_FIELDS}
    old_password, notes = account_password(account), account_notes(account)
    _seal_account(account, password=new_password, notes=notes, key=key)
    account.password_changed_at = now
    if not rows.update_unchanged(account, fields=_SEALED_FIELDS, was=was):
        for name, value in was.items():
            setattr(account, name, value)
        return False
    version = PasswordVersion(account=account, set_at=was["password_changed_at"],
                              replaced_at=now, replaced_by=user, key_id=key.key_id)
    version.password_ct = _seal(old_password, record=f"passwordversion:{version.pk}",
                                field="password", key=key)
    rows.insert(version)
    return True


@transaction.atomic
def account_delete(*, user, account: Account, request: HttpRequest | None = None) -> None:
    _require_account(user, account, Permission.MODIFY)
    audit_record(action=Action.ACCOUNT_DELETE, actor=user, request=request, target=account)
    account.delete()


def password_reveal(*, user, account: Account, reason: str = "",
                    request: HttpRequest | None = None, version: PasswordVersion | None = None
                    ) -> str:
    """No audit, no secret: the audit row is committed before the password is
    decrypted and returned; if the row cannot be written, nothing is revealed.
    Outside a transaction (as in every request) the INSERT is its own durable
    commit: one round trip, not four."""
    _require_account(user, account, Permission.VIEW)
    audit_record(action=Action.PASSWORD_REVEAL, actor=user, request=request, target=account,
                 reason=reason.strip(), detail={"version": str(version.pk)} if version else {})
    return version_password(version) if version else account_password(account)


def notes_for_edit(*, user, account: Account, request: HttpRequest | None = None) -> str:
    """The notes may hold secrets too: showing them in the edit form is a retrieval,
    audited like a reveal (and only for those who may change the account)."""
    _require_account(user, account, Permission.MODIFY)
    audit_record(action=Action.PASSWORD_REVEAL, actor=user, request=request, target=account,
                 detail={"field": "notes", "purpose": "edit"})
    return account_notes(account)


# --- Sharing -----------------------------------------------------------------------------------

@transaction.atomic
def share_grant(*, user, target: Resource | Account, permission: str, grantee_user=None,
                grantee_team=None, request: HttpRequest | None = None):
    """Share a resource or an account with one user or one team (replacing an earlier
    share with the same grantee)."""
    if (grantee_user is None) == (grantee_team is None):
        raise ValidationError("Choose either a user or a team to share with.")
    if permission not in Permission.values:
        raise ValidationError({"permission": "Choose view or modify."})
    if isinstance(target, Resource):
        _require_resource(user, target, Permission.MODIFY)
        share_model, target_field, action = ResourceShare, "resource", Action.RESOURCE_SHARE
    else:
        _require_account(user, target, Permission.MODIFY)
        share_model, target_field, action = AccountShare, "account", Action.ACCOUNT_SHARE
    share, _ = share_model.objects.update_or_create(
        **{target_field: target, "user": grantee_user, "team": grantee_team},
        defaults={"permission": permission})
    grantee = f"user:{grantee_user.get_username()}" if grantee_user else f"team:{grantee_team.name}"
    audit_record(action=action, actor=user, request=request, target=target,
                 detail={"grantee": grantee, "permission": permission})
    return share


@transaction.atomic
def share_revoke(*, user, share: ResourceShare | AccountShare,
                 request: HttpRequest | None = None) -> None:
    target = share.resource if isinstance(share, ResourceShare) else share.account
    if isinstance(target, Resource):
        _require_resource(user, target, Permission.MODIFY)
    else:
        _require_account(user, target, Permission.MODIFY)
    grantee = f"user:{share.user.get_username()}" if share.user else f"team:{share.team.name}"
    audit_record(action=Action.SHARE_REVOKE, actor=user, request=request, target=target,
                 detail={"grantee": grantee})
    share.delete()
