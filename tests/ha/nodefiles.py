"""Where a built pair keeps its HA passwords (the tests read them to prove that the
right password alone does not open an account, and that none of them is logged)."""


def replication_password(pair) -> str:
    """The secondary's server keeps it in master.info (the 6th line)."""
    master_info = pair.secondary.profile.mariadb.data_dir / "master.info"
    return master_info.read_text().splitlines()[5]


def audit_shipper_password(pair) -> str:
    return (pair.secondary.profile.ha_dir / "audit_shipper_password").read_text()
