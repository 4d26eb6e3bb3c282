import uuid

from django.db import models


class Action(models.TextChoices):
    LOGIN = "login", "Login"
    LOGOUT = "logout", "Logout"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOCKOUT = "lockout", "Lockout"
    OTP_ENROLLED = "otp_enrolled", "Two-factor enrolled"
    OTP_REMOVED = "otp_removed", "Two-factor removed"
    PASSWORD_REVEAL = "password_reveal", "Password retrieved"
    RESOURCE_CREATE = "resource_create", "Resource created"
    RESOURCE_UPDATE = "resource_update", "Resource modified"
    RESOURCE_DELETE = "resource_delete", "Resource deleted"
    RESOURCE_SHARE = "resource_share", "Resource shared"
    ACCOUNT_CREATE = "account_create", "Account created"
    ACCOUNT_UPDATE = "account_update", "Account modified"
    PASSWORD_CHANGE = "password_change", "Password changed"
    ACCOUNT_DELETE = "account_delete", "Account deleted"
    ACCOUNT_SHARE = "account_share", "Account shared"
    SHARE_REVOKE = "share_revoke", "Share revoked"
    USER_CREATE = "user_create", "User created"
    USER_UPDATE = "user_update", "User modified"
    ROLE_CHANGE = "role_change", "Role changed"
    TEAM_CHANGE = "team_change", "Team changed"
    TOKEN_CREATE = "token_create", "API token created"
    TOKEN_REVOKE = "token_revoke", "API token revoked"
    KEY_ROTATE = "key_rotate", "Master key rotated"
    HA_EVENT = "ha_event", "High availability event"


class AuditContent(models.Model):
    """What an audit row says. `row_hash` is the hash of this content, set at insert."""

    Action = Action

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    node = models.CharField(max_length=255)
    # No index of their own: AuditEvent's (actor, action, occurred_at) and (action,
    # occurred_at) serve a filter on either, and every audited read pays for each index.
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    row_hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class AuditEvent(AuditContent):
    """One row of the canonical, append-only trail (replicated). The chain over the
    row hashes lives in AuditSeal."""

    class Meta:
        ordering = ["-id"]
        # The audit page's filters: who + what + when, and what + when. InnoDB appends
        # the id to each, so a page newest-first reads only the rows it shows.
        indexes = [models.Index(fields=["actor", "action", "occurred_at"],
                                name="audit_actor_action_time"),
                   models.Index(fields=["action", "occurred_at"], name="audit_action_time")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit events are append-only")


class AuditOutbox(AuditContent):
    """An event that happened on a read-only secondary (local schema), waiting to be
    shipped to the primary's trail; it comes back through replication. OutboxSeal
    chains these rows, so none can be dropped silently before delivery."""

    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]


class SealFields(models.Model):
    """One link of the chain: an HMAC (keyed by AuditSealKey) over the previous seal,
    the ids still in flight, and the (id, row hash) of every event it covers, in id
    order. A seal covers the events committed since the last seal up to
    `last_event_id` (the high-water mark) plus events that committed late: ids an
    earlier seal listed as `pending_ids` (allocated but not committed when it was
    made). So a slow transaction is sealed later instead of breaking the chain, and
    a row that appears in a sealed range without having been pending is an insertion."""

    first_event_id = models.BigIntegerField()
    last_event_id = models.BigIntegerField()
    event_count = models.PositiveIntegerField()
    event_ids = models.TextField(blank=True, default="")  # "1-5,7,9-12"
    pending_ids = models.TextField(blank=True, default="")
    previous_hash = models.CharField(max_length=64, unique=True)  # the chain cannot fork
    seal_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]


class AuditSeal(SealFields):
    """Seals of the canonical trail (replicated)."""

    TRAIL = "trail"  # names its HMAC key and its witness


class OutboxSeal(SealFields):
    """Seals of a secondary's outbox (local schema)."""

    TRAIL = "outbox"


class AuditSealKey(models.Model):
    """The random key the seals' HMAC derives from (replicated, so both nodes can
    verify), sealed by the master key like every other secret; master key rotation
    re-seals it. Created on first use on the primary; one row, id 1."""

    key_ct = models.BinaryField()
    key_id = models.CharField(max_length=16, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)


class SealWitness(models.Model):
    """The newest seal this node has made or seen, per trail (local schema, never
    replicated, insert-only). Deleting the newest seals and their rows leaves an
    intact-looking shorter chain; the witness still names the seal that vanished.
    The other node's witness is the one an attacker on this node cannot reach."""

    trail = models.CharField(max_length=16)
    seal_id = models.BigIntegerField()
    seal_hash = models.CharField(max_length=64)
    witnessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["trail", "seal_id"])]
