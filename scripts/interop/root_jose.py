#!/usr/bin/env python3
"""Root metadata (docs/trust.md) checked and signed by two JOSE libraries we did not write:
joserfc and jwcrypto.

    python3 root_jose.py check ROOT.json [SIGNERS.json]
        Verifies each signature on its own, with joserfc and with jwcrypto, against the root keys
        of SIGNERS.json (default: ROOT.json itself). Prints one JSON line per signature:
        {"kid": ..., "joserfc": true|false, "jwcrypto": true|false}.

    python3 root_jose.py sign ROOT.json PRIVATE.pem [PRIVATE.pem ...]
        Signs ROOT.json's payload anew with joserfc (JSON General Serialization, one signature per
        key, kid as ROOT.json's root keys name the key) and prints the document.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization
from joserfc import jws as joserfc_jws
from joserfc.jwk import ECKey, OKPKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims(document) -> dict:
    return json.loads(unb64(document["payload"]))


def import_public(jwk: dict):
    return OKPKey.import_key(jwk) if jwk["kty"] == "OKP" else ECKey.import_key(jwk)


def check(root_path: str, signers_path: str) -> int:
    document = json.load(open(root_path))
    keys = {k["kid"]: k for k in claims(json.load(open(signers_path)))["root_keys"]}
    for signature in document["signatures"]:
        header = json.loads(unb64(signature["protected"]))
        jwk = keys.get(header.get("kid"))
        result = {"kid": header.get("kid"), "joserfc": False, "jwcrypto": False}
        if jwk is not None:
            single = {"payload": document["payload"], "signatures": [signature]}
            try:
                joserfc_jws.deserialize_json(single, import_public(jwk), algorithms=[header["alg"]])
                result["joserfc"] = True
            except Exception:
                pass
            try:
                token = jwcrypto_jws.JWS()
                token.deserialize(json.dumps({"payload": document["payload"], "protected": signature["protected"],
                                              "signature": signature["signature"]}))
                token.allowed_algs = [header["alg"]]
                token.verify(jwcrypto_jwk.JWK(**jwk))
                result["jwcrypto"] = True
            except Exception:
                pass
        print(json.dumps(result))
    return 0


def sign(root_path: str, key_paths) -> int:
    document = json.load(open(root_path))
    payload = unb64(document["payload"])
    root_keys = claims(document)["root_keys"]
    members, private_keys = [], []
    for path in key_paths:
        with open(path, "rb") as f:
            pem = f.read()
        key = OKPKey.import_key(pem) if b"BEGIN PRIVATE KEY" in pem and _is_ed25519(pem) else ECKey.import_key(pem)
        public = key.as_dict(private=False)
        match = next(k for k in root_keys if k["kty"] == public["kty"] and k["x"] == public["x"] and k.get("y") == public.get("y"))
        members.append({"protected": {"alg": match["alg"], "kid": match["kid"], "typ": "fod-root+json"}})
        private_keys.append(key)
    # One signature per key: joserfc signs each member with the key whose kid it names.
    from joserfc.jwk import KeySet
    signed = joserfc_jws.serialize_json(members, payload, KeySet(private_keys), algorithms=["ES256", "EdDSA"])
    print(json.dumps({"payload": signed["payload"], "signatures": signed["signatures"]}, indent=2))
    return 0


def _is_ed25519(pem: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    return isinstance(serialization.load_pem_private_key(pem, password=None), ed25519.Ed25519PrivateKey)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else sys.argv[2]))
    if len(sys.argv) >= 4 and sys.argv[1] == "sign":
        sys.exit(sign(sys.argv[2], sys.argv[3:]))
    sys.exit(__doc__)
