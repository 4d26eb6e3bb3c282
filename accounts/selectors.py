"""Reads for accounts."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count
from django.utils import timezone

from accounts.models import Team, TotpDevice
from accounts.roles import role_named
from audit.models import AuditEvent
from strongroom.keyset import Page, keyset_page

# Keys of the login row's `detail` that carry a used one-time code to the primary.
TOTP_DEVICE, TOTP_STEP = "totp_device", "totp_step"


def totp_step_used_in_trail(*, user, device: TotpDevice) -> int:
    """The newest time step of `device` that any node's login row in the canonical trail
    records (-1 if none). A secondary's rows reach this trail by the audit shipping;
    only rows young enough for their step to still be accepted matter."""
    recent = timezone.now() - timedelta(seconds=device.step * (2 * device.tolerance + 4))
    details = (AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN,
                                         actor=user.get_username(), occurred_at__gte=recent)
               .values_list("detail", flat=True))
    steps = [detail.get(TOTP_STEP) for detail in details
             if isinstance(detail, dict) and detail.get(TOTP_DEVICE) == device.pk]
    return max((step for step in steps if isinstance(step, int)), default=-1)


def user_page(*, cursor: str = "") -> Page:
    """One page of users by username (unique). Raises strongroom.keyset.BadCursor for a
    cursor that is not a page link."""
    return keyset_page(get_user_model().objects.all(), fields=("username",), types=(str,),
                       cursor=cursor)


def teams_with_sizes():
    """Every team with its member count (`size`): the user list names the teams, not
    each member of each one, so the page does not grow with the teams (issue 12)."""
    return Team.objects.annotate(size=Count("members")).order_by("name")


def roles_of(users: list) -> dict[int, str]:
    """Each user's role (accounts.roles), in two small queries: the users' memberships by
    the (user, group) index, then the few groups' names. Prefetching `groups` joined from
    the groups side, and MariaDB read every member of every group: the whole user table
    for one page (issue 12)."""
    user_model = get_user_model()
    memberships = (user_model.groups.through.objects
                   .filter(user_id__in=[user.pk for user in users])
                   .values_list("user_id", "group_id"))
    group_names = dict(Group.objects.values_list("id", "name"))
    held = defaultdict(list)
    for user_id, group_id in memberships:
        held[user_id].append(group_names[group_id])
    return {user.pk: role_named(held[user.pk]) for user in users}
