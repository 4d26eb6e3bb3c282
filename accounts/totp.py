"""Our TOTP device: django-otp's Device and throttling, with the seed sealed by the
master key (AES-256-GCM, like every other secret) instead of stored in clear."""
from __future__ import annotations

import os
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP

from vault import sealing

SEED_BYTES = 20


class TotpDevice(ThrottlingMixin, Device):
    # django-otp keeps integer device ids in the session, so the seed is sealed
    # right after the insert, once the id (bound as associated data) is known.
    key_ct = models.BinaryField()
    key_id = models.CharField(max_length=16, db_index=True)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        app_label = "accounts"
        verbose_name = "TOTP device"

    def seal_new_seed(self) -> None:
        sealing.seal_row(self, {"key": os.urandom(SEED_BYTES).hex()})

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(sealing.open_field(self, "key"))

    def totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        return totp

    def matching_t(self, token: str, *, after_t: int) -> tuple[int, int] | None:
        """(time step, drift) of a valid code newer than `after_t`, else None."""
        if not token.isdigit():
            return None
        totp = self.totp()
        if totp.verify(int(token), self.tolerance, after_t + 1):
            return totp.t(), totp.drift
        return None

    def verify_token(self, token) -> bool:
        """django-otp's contract: throttled, one use per code, state saved."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        match = self.matching_t(str(token).strip(), after_t=self.last_t)
        if match is None:
            self.throttle_increment(commit=True)
            return False
        self.last_t, self.drift = match
        self.throttle_reset(commit=False)
        self.save()
        return True

    def get_throttle_factor(self) -> int:
        return 1

    @property
    def config_url(self) -> str:
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode({"secret": b32encode(self.bin_key), "algorithm": "SHA1",
                            "digits": self.digits, "period": self.step})
        return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"
