import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class PasswordPolicy(models.Model):
    name = models.CharField(max_length=80, unique=True)
    length = models.PositiveSmallIntegerField(default=20)
    require_lower = models.BooleanField(default=True)
    require_upper = models.BooleanField(default=True)
    require_digits = models.BooleanField(default=True)
    require_symbols = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "password policies"

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    class Type(models.TextChoices):
        SERVER = "server", "Server"
        DATABASE = "database", "Database"
        NETWORK = "network", "Network device"
        APPLICATION = "application", "Application"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    resource_type = models.CharField(max_length=20, choices=Type.choices)
    address = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_resources")
    policy = models.ForeignKey(PasswordPolicy, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("vault:resource_detail", args=[self.pk])


class Account(models.Model):
    """A login on a resource. Password and notes are AES-GCM ciphertexts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="accounts")
    login_name = models.CharField(max_length=200)
    password_ct = models.BinaryField()
    notes_ct = models.BinaryField()
    key_id = models.CharField(max_length=16, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    password_changed_at = models.DateTimeField()

    class Meta:
        ordering = ["login_name"]
        constraints = [models.UniqueConstraint(fields=["resource", "login_name"],
                                               name="account_unique_login_per_resource")]

    def __str__(self) -> str:
        return f"{self.login_name}@{self.resource.name}"

    def get_absolute_url(self) -> str:
        return reverse("vault:account_detail", args=[self.pk])


class PasswordVersion(models.Model):
    """A password an account had before; kept so an old one can be recovered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="history")
    password_ct = models.BinaryField()
    key_id = models.CharField(max_length=16, db_index=True)
    set_at = models.DateTimeField()
    replaced_at = models.DateTimeField()
    replaced_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-replaced_at"]


class Permission(models.TextChoices):
    VIEW = "view", "View"
    MODIFY = "modify", "Modify"


def _one_grantee() -> Q:
    return (Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False))


class ResourceShare(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    permission = models.CharField(max_length=10, choices=Permission.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_one_grantee(), name="resourceshare_one_grantee"),
            models.UniqueConstraint(fields=["resource", "user"], name="resourceshare_unique_user"),
            models.UniqueConstraint(fields=["resource", "team"], name="resourceshare_unique_team"),
        ]


class AccountShare(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    permission = models.CharField(max_length=10, choices=Permission.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_one_grantee(), name="accountshare_one_grantee"),
            models.UniqueConstraint(fields=["account", "user"], name="accountshare_unique_user"),
            models.UniqueConstraint(fields=["account", "team"], name="accountshare_unique_team"),
        ]


class KeyCheck(models.Model):
    """A known value sealed with each master key: proves at start-up that the
    configured key is this database's key, without storing the key."""

    key_id = models.CharField(max_length=16, primary_key=True)
    check_ct = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
