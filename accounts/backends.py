import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group, Permission
from django.db import connections, router

from ha.router import is_read_only_node


class NodeModelBackend(ModelBackend):
    """Django's backend, except that on a read-only node a login never writes: Django
    would re-hash an old-format password into auth_user (a replicated table)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not is_read_only_node():
            return super().authenticate(request, username=username, password=password,
                                        **kwargs)
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user_model().set_password(password)  # same time as a real check
            return None
        if check_password(password, user.password) and self.user_can_authenticate(user):
            return user
        return None

    def get_all_permissions(self, user_obj, obj=None):
        """Django's answer, asked in one plain query instead of two compiled ones (the
        user's own and the groups'): every page's navigation asks it (issue 12)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None \
                or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj=obj)
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = _user_and_group_permissions(user_obj)
        return user_obj._perm_cache


def _user_and_group_permissions(user) -> set[str]:
    with connections[router.db_for_read(Permission)].cursor() as cursor:
        cursor.execute(_permissions_sql(), [user.pk, user.pk])
        return {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}


@functools.cache
def _permissions_sql() -> str:
    """Permission.objects.filter(user=…) | filter(group__user=…), as "app_label.codename"."""
    quote = connections[router.db_for_read(Permission)].ops.quote_name
    user_model = get_user_model()

    def through(model, field: str) -> tuple[str, str, str]:
        meta = model._meta.get_field(field).remote_field.through._meta
        from_column = meta.get_field(model._meta.model_name).column
        target = model._meta.get_field(field).related_model._meta.model_name
        return quote(meta.db_table), quote(from_column), quote(meta.get_field(target).column)

    user_perms, up_user, up_perm = through(user_model, "user_permissions")
    user_groups, ug_user, ug_group = through(user_model, "groups")
    group_perms, gp_group, gp_perm = through(Group, "permissions")
    permission, content_type = Permission._meta, Permission._meta.get_field("content_type")
    ct = content_type.related_model._meta
    # Each half starts from the user's own rows, by index: an IN (… UNION …) made
    # MariaDB test every permission against the subquery (~850 rows read per page).
    names = (f"SELECT ct.{quote(ct.get_field('app_label').column)}, "
             f"p.{quote(permission.get_field('codename').column)} ")
    to_names = (f"INNER JOIN {quote(permission.db_table)} p "
                f"ON p.{quote(permission.pk.column)} = {{permission_id}} "
                f"INNER JOIN {quote(ct.db_table)} ct "
                f"ON ct.{quote(ct.pk.column)} = p.{quote(content_type.column)} ")
    return (
        f"{names}FROM {user_perms} up {to_names.format(permission_id=f'up.{up_perm}')}"
        f"WHERE up.{up_user} = %s "
        f"UNION {names}FROM {user_groups} ug INNER JOIN {group_perms} gp "
        f"ON gp.{gp_group} = ug.{ug_group} {to_names.format(permission_id=f'gp.{gp_perm}')}"
        f"WHERE ug.{ug_user} = %s")
