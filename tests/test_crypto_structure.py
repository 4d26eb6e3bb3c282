"""Issue 8 item 22: the key holder knows nothing of Django, the crypto modules import
without a circle, and the router names only models that exist."""
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings

from ha.router import LOCAL_MODELS


def test_the_key_holder_and_the_cipher_import_without_django():
    code = ("import sys, vault.keyring, vault.crypto; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["vault.sealing", "vault.datakeys", "vault.startup",
                                    "vault.rotation", "accounts.totp", "vault.services"])
def test_each_crypto_module_imports_first_in_a_fresh_process(module):
    code = f"import django; django.setup(); import {module}"
    result = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_router_names_only_models_that_exist():
    for label in LOCAL_MODELS:
        assert apps.get_model(label) is not None, label
