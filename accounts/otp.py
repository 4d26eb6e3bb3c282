"""Checking a TOTP code. On a read-write node the device does it all (django-otp's
contract: throttling, one use per code, state saved on the device). On a read-only
node the same check runs on the replicated device, with replay and throttling state
kept in the local schema."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_otp import match_token

from accounts.models import OtpLocalState, TotpDevice
from ha.router import is_read_only_node


def otp_verify(*, user, token: str) -> TotpDevice | None:
    token = token.strip()
    if not is_read_only_node():
        return match_token(user, token)
    for device in TotpDevice.objects.filter(user=user, confirmed=True):
        if _verify_on_read_only_node(device, token):
            return device
    return None


@transaction.atomic(using="local")
def _verify_on_read_only_node(device: TotpDevice, token: str) -> bool:
    state, _ = OtpLocalState.objects.select_for_update().get_or_create(device_id=device.pk)
    now = timezone.now()
    if state.throttled_until and state.throttled_until > now:
        return False
    # A code is good once: never again here, nor one the primary already took.
    match = device.matching_t(token, after_t=max(device.last_t, state.last_t))
    if match is not None:
        state.last_t, state.failures, state.throttled_until = match[0], 0, None
        state.save()
        return True
    state.failures += 1
    state.throttled_until = now + timedelta(seconds=2 ** min(state.failures - 1, 10))
    state.save()
    return False
