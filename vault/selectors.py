"""Who may see what. Access comes from owning a resource or from a share (to the
user or to one of their teams), on the resource or on a single account."""
from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import Q, QuerySet

from accounts.models import Team
from accounts.services import api_token_user_with
from strongroom import rows
from strongroom.keyset import Page, keyset_page
from vault.models import Account, AccountShare, Permission, Resource, ResourceShare

# Below this many login-name matches a search collects them first (see _login_part).
LOGIN_CANDIDATES = 1000


def _grantee_q(user) -> Q:
    return Q(user=user) | Q(team__members=user)


def _visibility(user) -> tuple[Q, Q, QuerySet[AccountShare]]:
    """(owned, shared whole, accounts shared one by one) for `user`."""
    owned = Q(owner=user)
    shared = Q(id__in=ResourceShare.objects.filter(_grantee_q(user)).values("resource_id"))
    return owned, shared, AccountShare.objects.filter(_grantee_q(user))


def _text_q(search: str) -> Q:
    return Q(name__icontains=search) | Q(address__icontains=search) | Q(
        description__icontains=search)


def _login_matches(user, search: str) -> QuerySet[Account]:
    """Accounts this user may see whose login name matches `search`: a single shared
    account must not reveal, by search, which other logins its resource has."""
    _, shared, shared_accounts = _visibility(user)
    return Account.objects.filter(
        Q(resource__owner=user) | Q(resource__in=Resource.objects.filter(shared))
        | Q(id__in=shared_accounts.values("account_id")), login_name__icontains=search)


def _login_part(user, search: str) -> QuerySet[Resource]:
    """The resources of _login_matches for a page. Few matches (a search for one
    login): take them in one scan of the login index, then the page sorts only them;
    asked in name order instead, MariaDB walks every resource and looks up its logins.
    Many matches: that walk finds a page's worth soon."""
    seen = _login_matches(user, search)
    few = list(seen.values_list("resource_id", flat=True)[:LOGIN_CANDIDATES + 1])
    if len(few) <= LOGIN_CANDIDATES:
        return Resource.objects.filter(id__in=few)
    return Resource.objects.filter(id__in=seen.values("resource_id"))


def resources_for_user(*, user, search: str = "") -> QuerySet[Resource]:
    owned, shared, shared_accounts = _visibility(user)
    resources = Resource.objects.filter(
        owned | shared | Q(id__in=shared_accounts.values("account__resource_id")))
    if search:
        resources = resources.filter(
            _text_q(search) | Q(id__in=_login_matches(user, search).values("resource_id")))
    # Every condition is a subquery on the resource's own id, so no join can repeat a
    # row: no DISTINCT.
    return resources.select_related("owner")


def resource_page(*, user, search: str = "", cursor: str = "") -> Page:
    """One page of resources_for_user by name (unique), asked in parts (owned: the
    (owner, name) index; shared whole; shared by account; with a search, also the
    login-name matches), so its cost follows the page and the user's shares rather
    than the vault's size. Raises strongroom.keyset.BadCursor for a cursor that is
    not a page link of ours."""
    owned, shared, shared_accounts = _visibility(user)
    found = _text_q(search) if search else Q()
    parts = [Resource.objects.filter(visible, found) for visible in (
        owned, shared, Q(id__in=shared_accounts.values("account__resource_id")))]
    if search:
        parts.append(_login_part(user, search))
    return keyset_page(Resource.objects.select_related("owner"), parts=tuple(parts),
                       fields=("name",), types=(str,), cursor=cursor)


def accounts_on_page(*, user, resources: list[Resource]) -> dict[int, list[Account]]:
    """accounts_for_user for every resource of a page in one query: all accounts of a
    resource the user owns or has a share of, else only the accounts shared with them."""
    whole = Q(resource__owner=user) | Q(resource_id__in=ResourceShare.objects.filter(
        _grantee_q(user)).values("resource_id"))
    single = Q(id__in=AccountShare.objects.filter(_grantee_q(user)).values("account_id"))
    by_resource: dict[int, list[Account]] = {resource.pk: [] for resource in resources}
    for account in (Account.objects.filter(whole | single, resource__in=resources)
                    .select_related("resource").order_by("login_name", "id")):
        by_resource[account.resource_id].append(account)
    return by_resource


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
    using = router.db_for_read(Account)
    with connections[using].cursor() as cursor:
        cursor.execute(_account_for_user_sql(),
                       [user.pk, user.pk, user.pk, user.pk, rows.param(Account, "id", pk)])
        row = cursor.fetchone()  # by primary key: at most one row
    return _visible_account(user, using, row)


def account_for_token(*, raw_token: str, pk) -> tuple:
    """(user, account) for an API request about one account, in one statement: the
    token's user as api_token_user gives it (None: refused, and then no account
    either) and the account as account_for_user gives it (None: absent or not
    visible)."""
    user, row = api_token_user_with(raw_token, columns=_account_columns_sql("u"),
                                    joins=_token_account_joins_sql(),
                                    params=(rows.param(Account, "id", pk),))
    if user is None:
        return None, None
    return user, _visible_account(user, router.db_for_read(Account), row)


def _visible_account(user, using: str, row) -> Account | None:
    """The account of a row of _account_columns_sql, or None when the row has no
    account (absent) or the user no grant on it (not visible)."""
    if row is None or row[2 + _ACCOUNT_PK_INDEX] is None:
        return None
    resource_grant, account_grant = row[0] or 0, row[1] or 0
    account = rows.instance(Account, using, row, start=2)
    account.resource = rows.instance(Resource, using, row, start=2 + rows.width(Account))
    if account.resource.owner_id == user.pk:
        permission = Permission.MODIFY
    else:
        permission = _GRANT_PERMISSION.get(max(resource_grant, account_grant))
        if permission is None:
            return None
    account.__dict__.setdefault("_permission_by_user", {})[user.pk] = permission
    return account


_ACCOUNT_PK_INDEX = Account._meta.concrete_fields.index(Account._meta.pk)


@functools.cache
def _account_columns_sql(user_alias: str = "") -> str:
    """The user's strongest grant from resource shares and from account shares, then
    the account's and the resource's columns (`r`). The user is `user_alias`.id, or
    two parameters (the user's id, twice) per grant without an alias."""
    return (f"({_grant_sql(ResourceShare, user_alias)}), "
            f"({_grant_sql(AccountShare, user_alias)}), "
            f"{rows.columns(Account, Account._meta.db_table)}, {rows.columns(Resource, 'r')}")


def _resource_join_sql() -> str:
    resource_id = f"{Account._meta.db_table}.{Account._meta.get_field('resource').column}"
    return f"JOIN {rows.table(Resource)} r ON r.{Resource._meta.pk.column} = {resource_id}"


@functools.cache
def _account_for_user_sql() -> str:
    """Account.objects.select_related("resource").filter(pk=…) with the user's strongest
    grant from resource shares and from account shares, written once (strongroom.rows)."""
    account = Account._meta
    return (f"SELECT {_account_columns_sql()} FROM {rows.table(Account)} "
            f"{_resource_join_sql()} WHERE {account.db_table}.{account.pk.column} = %s")


@functools.cache
def _token_account_joins_sql() -> str:
    """The account (one parameter: its id) and its resource, joined to the token's row
    and NULL when absent, so an unknown account still authenticates the token."""
    account = Account._meta
    return (f"LEFT JOIN ({rows.table(Account)} {_resource_join_sql()}) "
            f"ON {account.db_table}.{account.pk.column} = %s")


# The strongest grant of a share table as a number (modify 2, view 1, none NULL).
_GRANT_PERMISSION = {2: Permission.MODIFY, 1: Permission.VIEW}


@functools.cache
def _grant_sql(share_model, user_alias: str = "") -> str:
    """The strongest grant to a user, directly or through a team, of the shares on the
    outer query's account row: hand-written SQL because compiling the same subqueries
    through the ORM cost more than the rest of a password retrieval (issue 12). The
    user is `user_alias`.id, or without an alias two parameters: the user's id, twice."""
    table = share_model._meta.db_table
    members = Team._meta.get_field("members")
    user = f"{user_alias}.{get_user_model()._meta.pk.column}" if user_alias else "%s"
    if share_model is ResourceShare:
        target, outer = "resource_id", f"{Account._meta.db_table}.resource_id"
    else:
        target, outer = "account_id", f"{Account._meta.db_table}.id"
    return (f"SELECT MAX(CASE s.permission WHEN '{Permission.MODIFY}' THEN 2 "
            f"WHEN '{Permission.VIEW}' THEN 1 END) FROM {table} s "
            f"WHERE s.{target} = {outer} AND (s.user_id = {user} OR s.team_id IN "
            f"(SELECT m.{members.m2m_column_name()} FROM {members.m2m_db_table()} m "
            f"WHERE m.{members.m2m_reverse_name()} = {user}))")


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
