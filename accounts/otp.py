"""Checking a TOTP code. On a read-write node django-otp does it all; on a read-only
node the same TOTP check runs (django-otp's own TOTP class and the device's
replicated settings) with replay and throttling state kept in the local schema."""
from __future__ import annotations

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_otp import match_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import OtpLocalState
from ha.router import is_read_only_node


def otp_verify(*, user, token: str) -> TOTPDevice | None:
    token = token.strip()
    if not is_read_only_node():
        return match_token(user, token)
    if not token.isdigit():
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if _verify_on_read_only_node(device, int(token)):
            return device
    return None


@transaction.atomic(using="local")
def _verify_on_read_only_node(device: TOTPDevice, token: int) -> bool:
    state, _ = OtpLocalState.objects.select_for_update().get_or_create(device_id=device.pk)
    now = timezone.now()
    if state.throttled_until and state.throttled_until > now:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    for offset in range(-device.tolerance, device.tolerance + 1):
        totp.drift = device.drift + offset
        # A code is good once: never again here, nor one the primary already took.
        if totp.token() == token and totp.t() > max(device.last_t, state.last_t):
            state.last_t, state.failures, state.throttled_until = totp.t(), 0, None
            state.save()
            return True
    state.failures += 1
    state.throttled_until = now + timedelta(seconds=2 ** min(state.failures - 1, 10))
    state.save()
    return False
