"""Fill a node with N accounts for measurements: python -m bench.seed --accounts N.

Runs against the node named by STRONGROOM_ENV_FILE, with its master key. Rows are
bulk-inserted (sealed exactly as the services seal them) and one audit event
records the seeding."""
from __future__ import annotations

import argparse
import os
import time


def seed(*, accounts: int, owner: str, per_resource: int = 10, batch: int = 1000) -> float:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from audit.services import Action, audit_record
    from vault.models import Account, Resource
    from vault.services import _seal_account
    from vault.startup import start_up

    start_up()
    user = get_user_model().objects.get(username=owner)
    started = time.monotonic()
    run = f"{int(time.time())}"
    now = timezone.now()
    for first in range(0, accounts, batch):
        with transaction.atomic():
            count = min(batch, accounts - first)
            resources = Resource.objects.bulk_create([
                Resource(name=f"bench-{run}-{i}", resource_type="server", owner=user,
                         address=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}")
                for i in range(first // per_resource, (first + count - 1) // per_resource + 1)])
            rows = []
            for n in range(count):
                i = first + n
                account = Account(resource=resources[i // per_resource - first // per_resource],
                                  login_name=f"svc{i}", created_by=user, password_changed_at=now)
                _seal_account(account, password=f"Bench-pw-{i}!", notes="")
                rows.append(account)
            Account.objects.bulk_create(rows)
    audit_record(action=Action.ACCOUNT_CREATE, actor=user,
                 detail={"bench_seed": accounts})
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--owner", default="admin")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
    import django

    django.setup()
    took = seed(accounts=args.accounts, owner=args.owner)
    print(f"seeded {args.accounts} accounts in {took:.1f} s")


if __name__ == "__main__":
    main()
