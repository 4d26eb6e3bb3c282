"""Where a built pair keeps its HA passwords and client certificates (the tests read
them to prove that the right password alone does not open an account, and that none
of them is logged)."""


def replication_password(pair) -> str:
    """The secondary's server keeps it in master.info (the 6th line)."""
    master_info = pair.secondary.profile.mariadb.data_dir / "master.info"
    return master_info.read_text().splitlines()[5]


def audit_shipper_password(pair) -> str:
    return (pair.secondary.profile.ha_dir / "audit_shipper_password").read_text()


def snapshot_password(pair) -> str:
    """ha_resync's account on the primary (it presents the audit shipper's certificate)."""
    return (pair.secondary.profile.ha_dir / "snapshot_password").read_text()


def client_certificate(pair, role: str) -> dict[str, str]:
    """The secondary's client certificate files for `role`: the replica's are its
    database server's (beside its server certificate), the audit shipper's the app's."""
    if role == "replica":
        tls = pair.secondary.profile.mariadb.tls_dir
        return {"ca": str(tls / "replication-ca.pem"), "cert": str(tls / "replication.pem"),
                "key": str(tls / "replication.key")}
    tls = pair.secondary.profile.ha_dir / "tls"
    return {"ca": str(tls / "ca.pem"), "cert": str(tls / "audit.pem"),
            "key": str(tls / "audit.key")}
