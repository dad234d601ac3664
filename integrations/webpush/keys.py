"""VAPID keys (RFC 8292): an ECDSA P-256 key pair that identifies the application server.

The private key travels as PEM; the browser needs the public key as the
`applicationServerKey` of `pushManager.subscribe()`: the uncompressed point, base64url.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_private_pem() -> str:
    """A new VAPID private key, PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """The key of a PEM text; ValueError when it is not a P-256 private key."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("A VAPID key must be an ECDSA P-256 private key.")
    return key


def public_point(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def application_server_key(pem: str) -> str:
    """The public key of a PEM private key, as `pushManager.subscribe()` takes it."""
    return b64url(public_point(load_private_key(pem)))


def valid_subscription_keys(p256dh: str, auth: str) -> bool:
    """Whether a PushSubscription's keys are what RFC 8291 needs: a P-256 public point and a
    16-byte authentication secret (both base64url)."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(p256dh))
        return len(b64url_decode(auth)) == 16
    except (ValueError, TypeError):
        return False
