from django.conf import settings
from django.db import models


class Team(models.Model):
    """A group of users that resources and accounts can be shared with.

    Kept apart from Django groups, which carry the roles."""

    name = models.CharField(max_length=150, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [("manage_users", "Can manage users, roles and teams")]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A per-user API token; only its SHA-256 is stored (the token has 256 bits)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Coarse on purpose (see api_token_user): never a write on every API read.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


from accounts.totp import TotpDevice  # noqa: E402,F401  (a model of this app)


class OtpLocalState(models.Model):
    """One-time-code replay and throttling state kept by a read-only node (local
    schema), where django-otp cannot write its own fields on the replicated device."""

    device_id = models.BigIntegerField(unique=True)
    last_t = models.BigIntegerField(default=-1)
    failures = models.PositiveIntegerField(default=0)
    throttled_until = models.DateTimeField(null=True, blank=True)
