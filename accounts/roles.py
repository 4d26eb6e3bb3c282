"""The four roles are Django groups carrying permissions; a user holds exactly one."""
from __future__ import annotations

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
    # .all() so a list that prefetched the groups asks nothing more per user.
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), "")
