"""Reads for accounts."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import TotpDevice
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
    """One page of users by username (unique), with their groups (the role) in one more
    query. Raises strongroom.keyset.BadCursor for a cursor that is not a page link."""
    users = get_user_model().objects.prefetch_related("groups")
    return keyset_page(users, fields=("username",), types=(str,), cursor=cursor)
