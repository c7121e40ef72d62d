#!/usr/bin/env python3
"""Verifies a fod token with Python's `cryptography` only (no fod code): the signature against
the key named by `kid` in a JWK Set, then prints the payload. Exit 0 valid, 1 invalid.

    python3 cryptography_verify.py JWKS.json TOKEN
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key(jwk):
    if jwk["kty"] == "EC" and jwk["crv"] == "P-256":
        x = int.from_bytes(b64d(jwk["x"]), "big")
        y = int.from_bytes(b64d(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    if jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(b64d(jwk["x"]))
    raise ValueError("unsupported key")


def main() -> int:
    with open(sys.argv[1]) as f:
        keys = {k["kid"]: k for k in json.load(f)["keys"]}
    token = sys.argv[2].strip()
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64d(header_b64))
    jwk = keys[header["kid"]]
    if header["alg"] != jwk["alg"]:
        print("alg does not match the key", file=sys.stderr)
        return 1
    signing_input = f"{header_b64}.{payload_b64}".encode()
    signature = b64d(signature_b64)
    key = public_key(jwk)
    try:
        if header["alg"] == "ES256":
            if len(signature) != 64:
                raise InvalidSignature()
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, signing_input)
    except InvalidSignature:
        print("invalid signature", file=sys.stderr)
        return 1
    print(json.dumps({"header": header, "payload": json.loads(b64d(payload_b64))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
