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
        # An owner's resources in name order: one page of the list reads one page of it.
        indexes = [models.Index(fields=["owner", "name"], name="resource_owner_name")]

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
    """Legacy (before data keys): a known value sealed with the master key. Start-up
    converts it into data keys once, then deletes it."""

    key_id = models.CharField(max_length=16, primary_key=True)
    check_ct = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)


class DataKey(models.Model):
    """A key values are sealed with; stored only wrapped by master keys (DataKeyWrap).
    Exactly one is current: writers seal with it. A rotation leaves the others
    retired until every value is re-sealed."""

    id = models.CharField(max_length=16, primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # True or NULL: the unique index lets only one row be current.
    is_current = models.BooleanField(null=True, unique=True)
    # The master key an unfinished rotation moves to (empty when none is running).
    rotating_to = models.CharField(max_length=16, blank=True)


class DataKeyWrap(models.Model):
    """A data key sealed (AES-GCM) by one master key; a master key with no wrap is
    not this database's key."""

    data_key = models.ForeignKey(DataKey, on_delete=models.CASCADE, related_name="wraps")
    master_key_id = models.CharField(max_length=16, db_index=True)
    wrapped = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["data_key", "master_key_id"],
                                               name="datakeywrap_one_per_master_key")]


class RetiredMasterKey(models.Model):
    """A master key a finished rotation retired: start-up with it names the reason."""

    key_id = models.CharField(max_length=16, primary_key=True)
    retired_at = models.DateTimeField(auto_now_add=True)
