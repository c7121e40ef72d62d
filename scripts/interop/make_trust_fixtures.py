#!/usr/bin/env python3
"""Writes fixtures/trust/: root metadata chains and one case per failure, made with Python's
`cryptography` alone (no fod code), so that fod's TrustStore is checked against documents it
did not write. Run once; the output is committed (the keys are development keys).

    python3 scripts/interop/make_trust_fixtures.py fixtures/trust

The cases are described in fixtures/trust/README.md and docs/trust.md.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://fod.oem.example"
VIN = "WVWZZZ1KZAW394821"
T0 = 1798761600  # 2027-01-01T00:00:00Z
DAY = 86400


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Key:
    def __init__(self, folder, name, alg, kid=None):
        path = os.path.join(folder, "keys", f"{name}.private.pem")
        if os.path.exists(path):
            with open(path, "rb") as f:
                self.private = serialization.load_pem_private_key(f.read(), password=None)
        else:
            self.private = ed25519.Ed25519PrivateKey.generate() if alg == "EdDSA" else ec.generate_private_key(ec.SECP256R1())
            with open(path, "wb") as f:
                f.write(self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
            os.chmod(path, 0o600)
            with open(os.path.join(folder, "keys", f"{name}.public.pem"), "wb") as f:
                f.write(self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo))
        self.alg = alg
        if alg == "EdDSA":
            raw = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
            thumb = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % self.jwk["x"]
        else:
            numbers = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
            thumb = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (self.jwk["x"], self.jwk["y"])
        self.kid = kid or b64(hashlib.sha256(thumb.encode()).digest())

    def public_jwk(self):
        return dict(self.jwk, kid=self.kid, alg=self.alg, use="sig")

    def sign(self, data: bytes) -> bytes:
        if self.alg == "EdDSA":
            return self.private.sign(data)
        r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def root_claims(version, iat, exp, threshold, root_keys, issuing, issuer=ISSUER):
    return {"iss": issuer, "ver": version, "iat": iat, "exp": exp, "threshold": threshold,
            "root_keys": [k.public_jwk() for k in root_keys], "issuing_keys": issuing}


def issuing(key, scope, nbf, exp, markets=None):
    entry = {"jwk": key.public_jwk(), "scope": scope, "nbf": nbf, "exp": exp}
    if markets:
        entry["markets"] = markets
    return entry


def signed_root(claims, signers, typ="fod-root+json", corrupt=None, extra=None):
    payload = b64(compact(claims))
    signatures = []
    for index, key in enumerate(signers):
        protected = b64(compact({"alg": key.alg, "kid": key.kid, "typ": typ}))
        signature = bytearray(key.sign(f"{protected}.{payload}".encode()))
        if corrupt == index:
            signature[10] ^= 0x01
        entry = {"protected": protected, "signature": b64(bytes(signature))}
        if extra:
            entry.update(extra)
        signatures.append(entry)
    return {"payload": payload, "signatures": signatures}


def token(key, claims, typ):
    header = b64(compact({"alg": key.alg, "kid": key.kid, "typ": typ}))
    body = b64(compact(claims))
    return f"{header}.{body}.{b64(key.sign(f'{header}.{body}'.encode()))}"


def entitlement(jti, iat, exp):
    return {"iss": ISSUER, "sub": VIN, "jti": jti, "iat": iat, "nbf": iat, "exp": exp, "feature": "MATRIX_LED", "term": "P1Y"}


def main() -> int:
    folder = sys.argv[1]
    for sub in ("keys", "bad", "tokens"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    alice, bob, carol = Key(folder, "root-alice", "ES256"), Key(folder, "root-bob", "EdDSA"), Key(folder, "root-carol", "ES256")
    dave, mallory = Key(folder, "root-dave", "ES256"), Key(folder, "unknown-mallory", "ES256")
    a = Key(folder, "issuing-a", "ES256")
    b = Key(folder, "issuing-b", "EdDSA", kid="hsm:fod-issuing-b")
    e = Key(folder, "issuing-e-entitlements-only", "ES256")
    t = Key(folder, "issuing-t-time", "ES256")

    a_key = issuing(a, ["entitlement", "manifest"], T0, T0 + 200 * DAY)
    t_key = issuing(t, ["time"], T0, T0 + 3 * 365 * DAY)
    b_key = issuing(b, ["entitlement", "manifest"], T0 + 30 * DAY, T0 + 3 * 365 * DAY, markets=["DE", "AT"])
    e_key = issuing(e, ["entitlement"], T0, T0 + 3 * 365 * DAY)
    v1 = root_claims(1, T0, T0 + 365 * DAY, 2, [alice, bob, carol], [a_key, t_key])
    v2 = root_claims(2, T0 + 10 * DAY, T0 + 400 * DAY, 2, [alice, bob, carol], [a_key, t_key, b_key, e_key])
    v3 = root_claims(3, T0 + 60 * DAY, T0 + 2 * 365 * DAY, 2, [alice, bob, dave], [t_key, b_key, e_key])

    documents = {
        "root-1.json": signed_root(v1, [alice, bob]),
        "root-2.json": signed_root(v2, [alice, carol]),
        "root-3.json": signed_root(v3, [alice, bob, dave]),
        "bad/root-2-one-signature.json": signed_root(v2, [alice]),
        "bad/root-2-duplicate-signature.json": signed_root(v2, [alice, alice]),
        "bad/root-2-unknown-signer.json": signed_root(v2, [alice, mallory]),
        "bad/root-2-signature-invalid.json": signed_root(v2, [alice, carol], corrupt=1),
        "bad/root-2-wrong-typ.json": signed_root(v2, [alice, carol], typ="JWT"),
        "bad/root-3-new-keys-short.json": signed_root(v3, [alice, carol]),
        "bad/root-2-expired.json": signed_root(dict(v2, exp=T0 + 100 * DAY), [alice, carol]),
        "bad/root-2-other-issuer.json": signed_root(dict(v2, iss="https://other.example"), [alice, carol]),
        "bad/root-2-unprotected-header.json": signed_root(v2, [alice, carol], extra={"header": {"kid": "x"}}),
        "bad/root-2-kid-twice.json": signed_root(dict(v2, issuing_keys=[a_key, t_key, b_key, dict(e_key, jwk=dict(e_key["jwk"], kid="hsm:fod-issuing-b"))]),
                                                 [alice, carol]),
        "bad/root-2-threshold-zero.json": signed_root(dict(v2, threshold=0), [alice, carol]),
        "bad/root-2-root-key-issues.json": signed_root(dict(v2, issuing_keys=[a_key, issuing(alice, ["entitlement"], T0, T0 + DAY)]), [alice, carol]),
    }
    for name, document in documents.items():
        with open(os.path.join(folder, name), "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")

    tokens = {
        "tokens/a-entitlement.jwt": token(a, entitlement("a-1", T0 + 5 * DAY, T0 + 400 * DAY), "fod-entitlement+jwt"),
        "tokens/b-entitlement.jwt": token(b, entitlement("b-1", T0 + 40 * DAY, T0 + 400 * DAY), "fod-entitlement+jwt"),
        "tokens/b-entitlement-media-type.jwt": token(b, entitlement("b-2", T0 + 40 * DAY, T0 + 400 * DAY), "application/fod-entitlement+jwt"),
        "tokens/b-early-entitlement.jwt": token(b, entitlement("b-0", T0 + 15 * DAY, T0 + 400 * DAY), "fod-entitlement+jwt"),
        "tokens/e-manifest.jwt": token(e, {"iss": ISSUER, "sub": VIN, "iat": T0 + 40 * DAY, "ver": 1, "exp": T0 + 47 * DAY, "entitlements": []},
                                       "fod-manifest+jwt"),
        "tokens/t-entitlement.jwt": token(t, entitlement("t-1", T0 + 40 * DAY, T0 + 400 * DAY), "fod-entitlement+jwt"),
    }
    for name, text in tokens.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text + "\n")

    def case(name, roots, at, expect, token=None, kind="entitlement", market=None, keys=None):
        entry = {"name": name, "roots": roots, "at": at, "expect": expect}
        if token:
            entry["token"] = {"file": token, "type": kind, "vin": VIN}
        if market:
            entry["market"] = market
        if keys is not None:
            entry["keys"] = sorted(keys)
        return entry

    at = T0 + 90 * DAY
    chain = ["root-1.json", "root-2.json", "root-3.json"]
    cases = [
        case("the chain walks 1 → 3; A is retired, B and the time key trusted", chain, at, "ok", keys=[t.kid, b.kid, e.kid]),
        case("root 1 alone, before the rotation", ["root-1.json"], T0 + DAY, "ok", keys=[a.kid, t.kid]),
        case("an expired root on the way is a step", ["root-1.json", "root-2.json"], T0 + 380 * DAY, "ok", keys=[a.kid, t.kid, b.kid, e.kid]),
        case("threshold not met: one signature of two", ["root-1.json", "bad/root-2-one-signature.json"], at, "root_threshold"),
        case("a duplicate signature counts once", ["root-1.json", "bad/root-2-duplicate-signature.json"], at, "root_threshold"),
        case("a signature by an unknown key counts for nothing", ["root-1.json", "bad/root-2-unknown-signer.json"], at, "root_threshold"),
        case("a signature that does not verify counts for nothing", ["root-1.json", "bad/root-2-signature-invalid.json"], at, "root_threshold"),
        case("a signature whose typ is not fod-root+json counts for nothing", ["root-1.json", "bad/root-2-wrong-typ.json"], at, "root_threshold"),
        case("the new version's own threshold is not met", ["root-1.json", "root-2.json", "bad/root-3-new-keys-short.json"], at, "root_threshold"),
        case("a skipped version", ["root-1.json", "root-3.json"], at, "root_version_skipped"),
        case("a rollback to an older version", ["root-2.json", "root-1.json"], at, "root_rollback"),
        case("a rollback to the same version", ["root-1.json", "root-2.json", "root-2.json"], at, "root_rollback"),
        case("the newest root has expired", ["root-1.json", "bad/root-2-expired.json"], T0 + 150 * DAY, "root_expired"),
        case("the pinned root alone has expired", ["root-1.json"], T0 + 366 * DAY, "root_expired"),
        case("another issuer", ["root-1.json", "bad/root-2-other-issuer.json"], at, "issuer_mismatch"),
        case("an unprotected header", ["root-1.json", "bad/root-2-unprotected-header.json"], at, "root_malformed"),
        case("one kid for two keys", ["root-1.json", "bad/root-2-kid-twice.json"], at, "keyset_kid_duplicate"),
        case("threshold 0", ["root-1.json", "bad/root-2-threshold-zero.json"], at, "root_malformed"),
        case("a root key that is also an issuing key", ["root-1.json", "bad/root-2-root-key-issues.json"], at, "root_malformed"),
        case("B's token verifies after the rotation", chain, at, "ok", token="tokens/b-entitlement.jwt", market="DE"),
        case("typ as a full media type equals the short form", chain, at, "ok", token="tokens/b-entitlement-media-type.jwt"),
        case("A's token is refused once A is retired", chain, at, "key_unknown", token="tokens/a-entitlement.jwt"),
        case("A's token verifies before the retirement", ["root-1.json", "root-2.json"], at, "ok", token="tokens/a-entitlement.jwt"),
        case("key outside its window: B before its nbf", ["root-1.json", "root-2.json"], T0 + 15 * DAY, "key_not_yet_valid",
             token="tokens/b-early-entitlement.jwt"),
        case("key outside its window: A after its exp", ["root-1.json", "root-2.json"], T0 + 300 * DAY, "key_expired", token="tokens/a-entitlement.jwt"),
        case("wrong scope: a manifest signed by an entitlement-only key", chain, at, "key_scope", token="tokens/e-manifest.jwt", kind="manifest"),
        case("wrong scope: an entitlement signed by the time key", chain, at, "key_scope", token="tokens/t-entitlement.jwt"),
        case("a market the key does not cover", chain, at, "key_unknown", token="tokens/b-entitlement.jwt", market="FR"),
    ]
    with open(os.path.join(folder, "cases.json"), "w") as f:
        json.dump({"issuer": ISSUER, "cases": cases}, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
