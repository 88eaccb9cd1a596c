"""Certificates and keys for the cluster, made with the `cryptography` package.

One CA signs everything. Identities follow Kubernetes' conventions: the CN is the user name and the
O fields are the groups, so `O=system:masters` is a superuser and `CN=system:node:NAME,
O=system:nodes` is what the Node authorizer expects from a kubelet.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class Identity:
    file: str  # base name: FILE.crt and FILE.key
    common_name: str
    groups: tuple[str, ...] = ()
    server_names: tuple[str, ...] = ()  # DNS names and IPs: a serving certificate when present
    client: bool = True


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _load_ca(pki: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def _make_ca(pki: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "podscope-devcluster-ca")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + 10 * VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_key(pki / "ca.key", key)
    (pki / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _issue(pki: Path, ident: Identity) -> None:
    ca_cert, ca_key = _load_ca(pki)
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, ident.common_name)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in ident.groups]
    usages = []
    if ident.client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if ident.server_names:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if ident.server_names:
        builder = builder.add_extension(_san(ident.server_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(pki / f"{ident.file}.key", key)
    (pki / f"{ident.file}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _make_service_account_keys(pki: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(pki / "sa.key", key)
    (pki / "sa.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def identities(node_name: str, node_ip: str, service_ip: str) -> list[Identity]:
    return [
        Identity(
            "apiserver",
            "kube-apiserver",
            server_names=(
                "127.0.0.1",
                node_ip,
                service_ip,
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
            client=False,
        ),
        # The API server's identity towards kubelets (logs, exec, attach).
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
        Identity("admin", "podscope-admin", ("system:masters",)),
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kubelet-client", f"system:node:{node_name}", ("system:nodes",)),
        Identity(
            "kubelet-serving",
            f"system:node:{node_name}",
            ("system:nodes",),
            server_names=(node_name, node_ip, "127.0.0.1"),
            client=False,
        ),
    ]


def registry_identity() -> Identity:
    return Identity(
        "registry", "podscope-devcluster-registry", server_names=("127.0.0.1",), client=False
    )


def ensure_registry(pki: Path) -> None:
    """The registries' serving certificate alone, so a running cluster's others stay."""
    ident = registry_identity()
    crt = pki / f"{ident.file}.crt"
    if not (crt.exists() and _names_match(crt, ident.server_names)):
        _issue(pki, ident)


def ensure(pki: Path, node_name: str, node_ip: str, service_ip: str) -> None:
    """Create what is missing; remake a certificate whose SANs no longer match (a new IP)."""
    pki.mkdir(parents=True, exist_ok=True)
    if not (pki / "ca.crt").exists():
        _make_ca(pki)
    if not (pki / "sa.key").exists():
        _make_service_account_keys(pki)
    for ident in identities(node_name, node_ip, service_ip):
        crt = pki / f"{ident.file}.crt"
        if crt.exists() and _names_match(crt, ident.server_names):
            continue
        _issue(pki, ident)


def _names_match(crt: Path, names: tuple[str, ...]) -> bool:
    if not names:
        return True
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    have |= set(san.get_values_for_type(x509.DNSName))
    return set(names) <= have
