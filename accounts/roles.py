"""The four roles are Django groups carrying permissions; a user holds exactly one."""
from __future__ import annotations

from collections.abc import Iterable

ADMINISTRATOR = "Administrator"
PASSWORD_ADMINISTRATOR = "Password administrator"
PASSWORD_USER = "Password user"
AUDITOR = "Auditor"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMINISTRATOR: ["vault.add_resource", "accounts.manage_users", "audit.view_auditevent"],
    PASSWORD_ADMINISTRATOR: ["vault.add_resource"],
    PASSWORD_USER: [],
    AUDITOR: ["audit.view_auditevent"],
}
ROLES = list(ROLE_PERMISSIONS)


def role_of(user) -> str:
    return role_named(group.name for group in user.groups.all())


def role_named(group_names: Iterable[str]) -> str:
    """The role among a user's groups ("" if none)."""
    names = set(group_names)
    return next((role for role in ROLES if role in names), "")
