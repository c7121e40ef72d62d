#!/usr/bin/env python3
"""Signs a fod entitlement token with Python's `cryptography` only (no fod code): the header
fod expects (alg, RFC 7638 thumbprint as kid, typ) over the claims given as JSON. Prints the
compact token.

    python3 cryptography_sign.py PRIVATE.pem CLAIMS_JSON [typ]
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> int:
    with open(sys.argv[1], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    claims = sys.argv[2].encode()
    typ = sys.argv[3] if len(sys.argv) > 3 else "fod-entitlement+jwt"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        thumb_input = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % b64(raw)
        alg = "EdDSA"
    else:
        numbers = key.public_key().public_numbers()
        thumb_input = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (
            b64(numbers.x.to_bytes(32, "big")), b64(numbers.y.to_bytes(32, "big")))
        alg = "ES256"
    kid = b64(hashlib.sha256(thumb_input.encode()).digest())
    header = json.dumps({"alg": alg, "kid": kid, "typ": typ}, separators=(",", ":")).encode()
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    if alg == "EdDSA":
        signature = key.sign(signing_input)
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    print(f"{signing_input.decode()}.{b64(signature)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
