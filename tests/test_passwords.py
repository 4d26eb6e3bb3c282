import string

import pytest

from vault import passwords


def test_the_generator_honours_length_and_every_required_class():
    rules = passwords.Rules(length=12)
    for _ in range(200):
        password = passwords.generate(rules)
        assert len(password) == 12
        assert passwords.violations(rules, password) == []


def test_the_generator_uses_only_the_allowed_classes():
    rules = passwords.Rules(length=30, require_symbols=False, require_upper=False)
    password = passwords.generate(rules)
    assert set(password) <= set(string.ascii_lowercase + string.digits)


def test_an_impossible_length_is_refused():
    with pytest.raises(ValueError, match="between 8 and 128"):
        passwords.generate(passwords.Rules(length=4))


def test_violations_name_each_missing_class():
    problems = passwords.violations(passwords.Rules(length=10), "abc")
    assert problems == ["must be at least 10 characters long", "must contain an upper-case letter",
                        "must contain a digit", "must contain a symbol"]
