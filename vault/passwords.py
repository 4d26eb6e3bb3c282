"""Password generation and policy checks (pure functions, no database)."""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

SYMBOLS = "!#$%&()*+,-./:;<=>?@[]^_{|}~"
MIN_LENGTH, MAX_LENGTH = 8, 128


@dataclass(frozen=True)
class Rules:
    length: int = 20
    require_lower: bool = True
    require_upper: bool = True
    require_digits: bool = True
    require_symbols: bool = True

    @classmethod
    def from_policy(cls, policy) -> "Rules":
        if policy is None:
            return cls()
        return cls(policy.length, policy.require_lower, policy.require_upper,
                   policy.require_digits, policy.require_symbols)

    def classes(self) -> list[str]:
        chosen = [(self.require_lower, string.ascii_lowercase),
                  (self.require_upper, string.ascii_uppercase),
                  (self.require_digits, string.digits),
                  (self.require_symbols, SYMBOLS)]
        return [alphabet for wanted, alphabet in chosen if wanted] or [string.ascii_letters]


def generate(rules: Rules) -> str:
    """A random password with at least one character of each required class."""
    if not MIN_LENGTH <= rules.length <= MAX_LENGTH:
        raise ValueError(f"length must be between {MIN_LENGTH} and {MAX_LENGTH}")
    classes = rules.classes()
    alphabet = "".join(classes)
    chars = [secrets.choice(alphabet) for _ in range(rules.length - len(classes))]
    chars += [secrets.choice(alphabet_) for alphabet_ in classes]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def violations(rules: Rules, password: str) -> list[str]:
    problems = []
    if len(password) < rules.length:
        problems.append(f"must be at least {rules.length} characters long")
    names = [(rules.require_lower, string.ascii_lowercase, "a lower-case letter"),
             (rules.require_upper, string.ascii_uppercase, "an upper-case letter"),
             (rules.require_digits, string.digits, "a digit"),
             (rules.require_symbols, SYMBOLS, "a symbol")]
    for wanted, alphabet, name in names:
        if wanted and not any(c in alphabet for c in password):
            problems.append(f"must contain {name}")
    return problems
