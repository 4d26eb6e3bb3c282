"""Which database each model lives in, and the first layer of read-only.

`default` is the replicated schema, `local` the node's own (never replicated).
On a secondary, a write to a replicated model raises ReadOnlyNode before any SQL
is sent; the database refuses it too (the app account has no write grant there).
"""
from django.conf import settings

from ha.role import current_role, is_read_only_node

# What a node must write even when read-only: sessions, lockout bookkeeping, the
# secondary's audit outbox and one-time-code replay state, this node's HA status
# and (on a primary) what its secondary reports.
LOCAL_APP_LABELS = frozenset({"sessions", "axes"})
LOCAL_MODELS = frozenset({"audit.auditoutbox", "audit.outboxseal", "audit.sealwitness",
                          "accounts.otplocalstate", "ha.nodestatus", "ha.transition",
                          "ha.replicareport", "ha.peerrequest", "alerts.alertdelivery"})


class ReadOnlyNode(Exception):
    """A write was attempted on a node that serves read-only."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or read_only_reason())


def read_only_reason() -> str:
    if current_role() == "fenced":
        return (f"{settings.NODE_NAME} is fenced: another node was promoted to primary, "
                f"so this one may not accept changes. Use the new primary.")
    return (f"{settings.NODE_NAME} is a read-only secondary: changes can only be made "
            f"on the primary.")


def database_for(model) -> str:
    meta = model._meta
    if meta.app_label in LOCAL_APP_LABELS or meta.label_lower in LOCAL_MODELS:
        return "local"
    return "default"


class NodeRouter:
    def db_for_read(self, model, **hints) -> str:
        return database_for(model)

    def db_for_write(self, model, **hints) -> str:
        database = database_for(model)
        if database == "default" and is_read_only_node():
            raise ReadOnlyNode()
        return database

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        if db == "default" and is_read_only_node():
            return False  # the replica's schema arrives through replication
        if model_name is None:
            return db == ("local" if app_label in LOCAL_APP_LABELS else "default")
        label = f"{app_label}.{model_name}"
        local = app_label in LOCAL_APP_LABELS or label in LOCAL_MODELS
        return db == ("local" if local else "default")
