"""ha_setup refuses bad names before touching anything."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ha.setup import HaSetupError, validate_fqdn


@pytest.mark.parametrize("name", ["vault-b.example.com", "VAULT-A.Example.COM.", "a.b.cd"])
def test_fully_qualified_names_are_accepted(name):
    assert validate_fqdn(name) == name.lower().rstrip(".")


@pytest.mark.parametrize("name", ["localhost", "vault_b.example.com", "-x.example.com",
                                  "10.0.0.1", "vault b.example.com", "", "a..b.com"])
def test_anything_else_is_refused_with_an_example(name):
    with pytest.raises(HaSetupError, match="not a fully qualified domain name"):
        validate_fqdn(name)


def test_ha_setup_refuses_a_bad_name_and_the_same_name_twice(tmp_path):
    with pytest.raises(CommandError, match="not a fully qualified"):
        call_command("ha_setup", "primary", "vault-b.example.com",
                     "--output", str(tmp_path / "p.zip"), stdout=StringIO())
    with pytest.raises(CommandError, match="need different names"):
        call_command("ha_setup", "vault-a.example.com", "vault-a.example.com",
                     "--output", str(tmp_path / "p.zip"), stdout=StringIO())
    assert not (tmp_path / "p.zip").exists()
