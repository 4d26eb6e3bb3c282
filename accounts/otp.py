"""Checking a TOTP code. On a read-write node the device does it all (django-otp's
contract: throttling, one use per code, state saved on the device), and a code is
also refused when the trail shows another node already took its time step. On a
read-only node the same check runs on the replicated device, with replay and
throttling state kept in the local schema. Every accepted code is audited with its
time step, which is how a secondary's use reaches the primary."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import OtpLocalState, TotpDevice
from accounts.selectors import TOTP_DEVICE, TOTP_STEP, totp_step_used_in_trail
from audit.services import Action, audit_record
from ha.router import is_read_only_node


def otp_verify(*, user, token: str, request: HttpRequest | None = None) -> TotpDevice | None:
    token = token.strip()
    verify = _verify_on_read_only_node if is_read_only_node() else _verify_on_writable_node
    for device in TotpDevice.objects.filter(user=user, confirmed=True):
        step = verify(device, token)
        if step is not None:
            audit_record(action=Action.LOGIN, actor=user, request=request,
                         detail={"second_factor": "totp", TOTP_DEVICE: device.pk,
                                 TOTP_STEP: step})
            return device
    return None


@transaction.atomic
def _verify_on_writable_node(device: TotpDevice, token: str) -> int | None:
    # Locked, so two requests cannot both take the same code here.
    device = TotpDevice.objects.select_for_update().get(pk=device.pk)
    # A step a secondary took (its login row shipped to this trail) counts as used.
    device.last_t = max(device.last_t, totp_step_used_in_trail(user=device.user,
                                                                device=device))
    return device.last_t if device.verify_token(token) else None


@transaction.atomic(using="local")
def _verify_on_read_only_node(device: TotpDevice, token: str) -> int | None:
    state, _ = OtpLocalState.objects.select_for_update().get_or_create(device_id=device.pk)
    now = timezone.now()
    if state.throttled_until and state.throttled_until > now:
        return None
    # A code is good once: never again here, nor one the primary already took.
    match = device.matching_t(token, after_t=max(device.last_t, state.last_t))
    if match is not None:
        state.last_t, state.failures, state.throttled_until = match[0], 0, None
        state.save()
        return match[0]
    state.failures += 1
    state.throttled_until = now + timedelta(seconds=2 ** min(state.failures - 1, 10))
    state.save()
    return None
