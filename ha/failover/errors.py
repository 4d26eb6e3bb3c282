"""The one error every failover step raises: its message says why and what to do."""


class FailoverError(Exception):
    """A promotion or fence was refused or failed; the message says why and what to do."""
