"""Throwaway certificate authorities and server certificates for TLS tests (openssl CLI).

`make_pki(folder)` writes a CA and a server certificate for 127.0.0.1/localhost signed by it
(the broker's side), and a second, unrelated CA (what a box with the wrong CA file holds);
`expired=True` makes the server certificate one that ended yesterday.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


@dataclass(frozen=True)
class Pki:
    """The files of a test PKI."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    wrong_ca_cert: Path


def _run(*args: str) -> None:
    subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    _run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return key, cert


def make_pki(folder: Path, *, expired: bool = False) -> Pki:
    """A CA, a server certificate it signed for 127.0.0.1/localhost, and an unrelated CA."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca(folder, "test-ca")
    _wrong_key, wrong_cert = _ca(folder, "wrong-ca")
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.crt"
    _run(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(key), "-out", str(csr),
    )  # fmt: skip
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    validity = ["-days", "-1" if expired else "2"]  # -1: its notAfter lies a day back
    _run(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-extfile", str(ext), *validity,
    )  # fmt: skip
    return Pki(ca_cert, cert, key, wrong_cert)
