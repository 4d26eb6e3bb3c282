"""Put N audit rows in a secondary's local outbox, exactly as audit_record writes them
(content hash included): python -m bench.outbox_fill --rows N --actor NAME."""
from __future__ import annotations

import argparse
import os


def fill(*, rows: int, actor: str) -> None:
    from django.conf import settings
    from django.utils import timezone

    from audit.integrity import event_hash
    from audit.models import AuditOutbox

    batch = []
    for i in range(rows):
        event = AuditOutbox(occurred_at=timezone.now(), node=settings.NODE_NAME, actor=actor,
                            action="password_reveal", object_type="account",
                            object_id=str(i), object_repr=f"bench {i}", reason="bench")
        event.row_hash = event_hash(event.__dict__)
        batch.append(event)
    AuditOutbox.objects.bulk_create(batch, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--actor", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
    import django

    django.setup()
    fill(rows=args.rows, actor=args.actor)


if __name__ == "__main__":
    main()
