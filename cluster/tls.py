"""HTTPS for the embedded demo: a private certificate authority and a server certificate.

kubectl sends bearer tokens only over TLS (kubectl-contract §0.2), so ``manage.py up`` serves
the API over HTTPS too. On first run it makes, in the state directory (``.kubarium/``, never
committed):

- ``ca.crt`` / ``ca.key``: a small certificate authority of this checkout (10 years);
- ``server.crt`` / ``server.key``: the server's certificate, signed by it, for ``localhost``,
  ``127.0.0.1`` and ``::1`` (and any other host names asked for), 825 days.

The kubeconfig carries ``ca.crt`` as ``certificate-authority-data``, so kubectl and the Python
client verify the server properly, no ``insecure-skip-tls-verify``. A CA plus a leaf (rather
than one self-signed leaf) is what Go's and Python's strict verifiers accept everywhere.
Files are reused while they are valid for the requested names; keys are mode 0600.

Daphne serves TLS through a Twisted endpoint (:func:`daphne_endpoint`), which needs pyOpenSSL
and service_identity (``twisted[tls]``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
SERVER_DAYS = 825  # the longest validity Apple's clients accept for a server certificate
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class Certificates:
    ca: Path
    ca_key: Path
    cert: Path
    key: Path

    def ca_pem(self) -> bytes:
        return self.ca.read_bytes()


def files_in(directory: Path) -> Certificates:
    return Certificates(
        directory / "ca.crt",
        directory / "ca.key",
        directory / "server.crt",
        directory / "server.key",
    )


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (mode 0600, also when it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as output:
        output.write(data)
    path.chmod(0o600)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Digital signatures; for the CA, also the signing of certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _make_ca(files: Certificates) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kubarium"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Kubarium CA ({socket.gethostname()})"),
        ]
    )
    now = _now()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(files.ca_key, _key_pem(key))
    files.ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _load_ca(files: Certificates) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    try:
        cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _expiring(cert):
        return None
    return cert, key


def _expiring(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - RENEW_BEFORE < _now()


def _server_is_usable(files: Certificates, ca: x509.Certificate, hosts: tuple[str, ...]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        files.key.read_bytes()
    except (OSError, ValueError):
        return False
    if _expiring(cert) or cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, x509.InvalidSignature):
        return False
    return all(_alt_name(host) in names for host in hosts)


def _make_server(
    files: Certificates, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, hosts
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    now = _now()
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kubarium"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver"),
                ]
            )
        )
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([_alt_name(host) for host in hosts]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.key, _key_pem(key))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_certificates(directory: Path, hosts: tuple[str, ...] = DEFAULT_HOSTS) -> Certificates:
    """The CA and server certificate in ``directory``, made (or renewed) when missing, expiring
    within 30 days, or not valid for every one of ``hosts``."""
    files = files_in(directory)
    directory.mkdir(parents=True, exist_ok=True)
    loaded = _load_ca(files)
    if loaded is None:
        loaded = _make_ca(files)
    ca, ca_key = loaded
    if not _server_is_usable(files, ca, hosts):
        _make_server(files, ca, ca_key, hosts)
    return files


def _escape(value: str) -> str:
    """Twisted's endpoint syntax: a colon, equals sign or backslash inside a value is escaped."""
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


def daphne_endpoint(port: int, files: Certificates, host: str = "127.0.0.1") -> str:
    """Daphne's ``-e`` argument serving TLS on ``host:port`` with the server certificate."""
    return (
        f"ssl:port={port}:interface={_escape(host)}"
        f":privateKey={_escape(str(files.key))}:certKey={_escape(str(files.cert))}"
    )


def with_tls(daphne_argv: list[str], endpoint: str) -> list[str]:
    """Daphne's command line (``services.daphne_argv``) with one more endpoint, before the
    application argument."""
    return [*daphne_argv[:-1], "-e", endpoint, daphne_argv[-1]]


def https_answers(url: str, ca: Path, timeout: float = 1.0) -> bool:
    """Whether an HTTPS server at ``url`` (``https://host:port``) completes a handshake with a
    certificate that ``ca`` vouches for."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=parts.hostname):
                return True
    except (OSError, ssl.SSLError):
        return False
