"""TLS material for replication: a private CA, server certificates bound to each
node's FQDN (and its address when that is an IP), and client certificates that name
the replica or the audit shipper. Keys are EC P-256."""
from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from strongroom.atomicfile import write_atomically

VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Issued:
    cert_pem: bytes
    key_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Strongroom HA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(common_name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name))
            .issuer_name(_name(common_name)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue(ca: Issued, *, common_name: str, names: list[str], server: bool) -> Issued:
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    alt_names: list[x509.GeneralName] = []
    for name in dict.fromkeys([common_name, *names]):
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = (x509.CertificateBuilder().subject_name(_name(common_name))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def subject_of(cert_pem: bytes) -> str:
    """The subject in the form MariaDB's REQUIRE SUBJECT compares against."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return "".join(f"/{attr.rfc4514_attribute_name}={attr.value}" for attr in cert.subject)


def write_for_server(path: Path, data: bytes, *, data_dir: Path) -> None:
    """Write a file the database server reads (its key, certificate, CA, its replica
    client certificate) atomically. The server runs as the owner of its data dir
    (`mysql` when packaged), who may not be whoever runs this command:
    - in a set-gid directory of the server's group (the node installer makes one, owned
      by the app's service user) the file is readable by that group, mode 0640, so the
      service user replaces it without root;
    - otherwise it is the server user's own, mode 0600 (giving it away needs root)."""
    server = data_dir.stat()
    try:
        server_group = pwd.getpwuid(server.st_uid).pw_gid
    except KeyError:  # a user without a name: its data dir's group stands for it
        server_group = server.st_gid
    path.parent.mkdir(parents=True, exist_ok=True)
    directory = path.parent.stat()
    shared = bool(directory.st_mode & stat.S_ISGID) and directory.st_gid == server_group
    owner = (directory.st_uid, directory.st_gid) if shared else (server.st_uid, server_group)
    # Not root in a shared directory: the file is ours, and the set-gid bit gives it
    # the server's group.
    if owner == (os.geteuid(), os.getegid()) or (shared and os.geteuid() != 0):
        owner = None
    write_atomically(path, data, mode=0o640 if shared else 0o600, owner=owner)
