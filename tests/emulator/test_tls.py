"""The self-signed certificate and TLS contexts."""

from __future__ import annotations

import ipaddress
import ssl

from cryptography import x509

from gateway.emulator.tls import client_ssl_context, self_signed_certificate, server_ssl_context


def test_certificate_names_loopback() -> None:
    cert_pem, key_pem = self_signed_certificate()
    certificate = x509.load_pem_x509_certificate(cert_pem)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert b"PRIVATE KEY" in key_pem
    assert isinstance(server_ssl_context(cert_pem, key_pem), ssl.SSLContext)
    client = client_ssl_context(cert_pem)
    assert client.verify_mode is ssl.CERT_REQUIRED
    assert client.check_hostname
