"""Kafka transport security from the environment: PLAINTEXT locally, TLS + SCRAM (Strimzi) in
production. The TLS files are real ones generated here, loaded by the same ssl code aiokafka uses."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from services.common.config import KafkaSettings
from services.common.kafka import connection_options, producer_config


def settings(**overrides: object) -> KafkaSettings:
    return KafkaSettings(kafka_bootstrap_servers="bookings-kafka-bootstrap:9093", **overrides)  # type: ignore[arg-type]


def _pem_pair(tmp_path: Path, name: str, issuer_key: ec.EllipticCurvePrivateKey | None = None) -> tuple[Path, Path, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer_key is None, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path, key


def test_locally_the_clients_speak_plaintext_without_credentials() -> None:
    options = connection_options(settings())
    assert options["security_protocol"] == "PLAINTEXT"
    assert "ssl_context" not in options and "sasl_plain_username" not in options


def test_production_uses_tls_verified_against_the_cluster_ca_and_a_scram_user(tmp_path: Path) -> None:
    ca, _, _ = _pem_pair(tmp_path, "cluster-ca")
    options = producer_config(
        settings(kafka_security_protocol="SASL_SSL", kafka_ssl_cafile=str(ca), kafka_sasl_username="bookings", kafka_sasl_password="s3cret")
    )
    assert options["security_protocol"] == "SASL_SSL"
    assert (options["sasl_mechanism"], options["sasl_plain_username"], options["sasl_plain_password"]) == ("SCRAM-SHA-512", "bookings", "s3cret")
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cluster-ca"),),)]
    assert options["acks"] == "all"  # the producer's own settings stay


def test_mutual_tls_loads_the_client_certificate_and_key(tmp_path: Path) -> None:
    ca, _, ca_key = _pem_pair(tmp_path, "cluster-ca")
    cert, key, _ = _pem_pair(tmp_path, "bookings", issuer_key=ca_key)
    options = connection_options(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(ca), kafka_ssl_certfile=str(cert), kafka_ssl_keyfile=str(key)))
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in options


def test_a_missing_ca_file_fails_at_start_up_not_at_the_first_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        connection_options(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "absent.crt")))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "bookings"}, "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        ({"kafka_sasl_username": "bookings", "kafka_sasl_password": "x"}, "is not SASL_PLAINTEXT or SASL_SSL"),
        ({"kafka_ssl_cafile": "/etc/ca.crt"}, "is not SSL or SASL_SSL"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "/etc/client.crt"}, "KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE"),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "GSSAPI", "kafka_sasl_username": "u", "kafka_sasl_password": "p"},
            "kafka_sasl_mechanism",
        ),
    ],
    ids=[
        "sasl-without-credentials",
        "sasl-without-password",
        "credentials-without-sasl",
        "ca-without-tls",
        "cert-without-key",
        "unknown-protocol",
        "unsupported-mechanism",
    ],
)
def test_an_incomplete_or_contradictory_security_setting_is_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**overrides)
