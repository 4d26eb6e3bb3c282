"""Who may see what. Access comes from owning a resource or from a share (to the
user or to one of their teams), on the resource or on a single account."""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from vault.models import Account, AccountShare, Permission, Resource, ResourceShare


def _grantee_q(user) -> Q:
    return Q(user=user) | Q(team__members=user)


def resources_for_user(*, user, search: str = "") -> QuerySet[Resource]:
    whole = Q(owner=user) | Q(id__in=ResourceShare.objects.filter(_grantee_q(user))
                                .values("resource_id"))
    shared_accounts = AccountShare.objects.filter(_grantee_q(user))
    resources = Resource.objects.filter(
        whole | Q(id__in=shared_accounts.values("account__resource_id")))
    if search:
        # A login name matches only on an account this user may see: a single shared
        # account must not reveal, by search, which other logins its resource has.
        seen_logins = Account.objects.filter(
            Q(resource__in=Resource.objects.filter(whole))
            | Q(id__in=shared_accounts.values("account_id")),
            login_name__icontains=search)
        resources = resources.filter(Q(name__icontains=search) | Q(address__icontains=search)
                                     | Q(description__icontains=search)
                                     | Q(id__in=seen_logins.values("resource_id")))
    return resources.distinct().select_related("owner")


def resource_permission(*, user, resource: Resource) -> str | None:
    if resource.owner_id == user.pk:
        return Permission.MODIFY
    permissions = set(ResourceShare.objects.filter(_grantee_q(user), resource=resource)
                      .values_list("permission", flat=True))
    return _strongest(permissions)


def accounts_for_user(*, user, resource: Resource) -> QuerySet[Account]:
    if resource_permission(user=user, resource=resource):
        return resource.accounts.all()
    shared = AccountShare.objects.filter(_grantee_q(user)).values("account_id")
    return resource.accounts.filter(id__in=shared)


def account_permission(*, user, account: Account) -> str | None:
    # Asked by the view and again by the service: remember the answer on the instance.
    cache = account.__dict__.setdefault("_permission_by_user", {})
    if user.pk not in cache:
        from_resource = resource_permission(user=user, resource=account.resource)
        if from_resource == Permission.MODIFY:
            cache[user.pk] = from_resource  # nothing an account share could add
        else:
            permissions = set(AccountShare.objects.filter(_grantee_q(user), account=account)
                              .values_list("permission", flat=True))
            cache[user.pk] = _strongest(permissions | {from_resource})
    return cache[user.pk]


def account_for_user(*, user, pk) -> Account | None:
    """The account, its resource and this user's permission on it in one query: None
    when it does not exist or the user may not see it. The same answer as
    account_permission (owner, then resource and account shares to the user or a
    team), remembered on the instance so the services do not ask again."""
    granted = (Permission.VIEW, Permission.MODIFY)
    resource_shares = ResourceShare.objects.filter(_grantee_q(user),
                                                   resource=OuterRef("resource_id"))
    account_shares = AccountShare.objects.filter(_grantee_q(user), account=OuterRef("pk"))
    account = (Account.objects.select_related("resource").filter(pk=pk).annotate(
        _resource_modify=Exists(resource_shares.filter(permission=Permission.MODIFY)),
        _resource_any=Exists(resource_shares.filter(permission__in=granted)),
        _account_modify=Exists(account_shares.filter(permission=Permission.MODIFY)),
        _account_any=Exists(account_shares.filter(permission__in=granted))))
    account = next(iter(account), None)  # by primary key: at most one row
    if account is None:
        return None
    if (account.resource.owner_id == user.pk or account._resource_modify
            or account._account_modify):
        permission = Permission.MODIFY
    elif account._resource_any or account._account_any:
        permission = Permission.VIEW
    else:
        return None
    account.__dict__.setdefault("_permission_by_user", {})[user.pk] = permission
    return account


def _strongest(permissions: set) -> str | None:
    if Permission.MODIFY in permissions:
        return Permission.MODIFY
    if Permission.VIEW in permissions:
        return Permission.VIEW
    return None


def resource_shares(*, resource: Resource) -> QuerySet[ResourceShare]:
    return resource.shares.select_related("user", "team")


def account_shares(*, account: Account) -> QuerySet[AccountShare]:
    return account.shares.select_related("user", "team")
