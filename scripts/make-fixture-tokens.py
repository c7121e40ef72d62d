#!/usr/bin/env python3
"""Builds fixtures/tokens/: valid tokens and one token for each failure class of the
verification procedure, signed with the development keys by Python's `cryptography`
(an implementation independent of fod's), plus manifest.json naming each file's expected
result. Run from the repository root:  python3 scripts/make-fixture-tokens.py

The ES256 signatures are randomized, so rerunning changes the files but not their verdicts.
"""
import base64
import json
import os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

OUT = "fixtures/tokens"
ISSUER = "https://fod.oem.example"
VIN = "WVWZZZ1KZAW394821"
OTHER_VIN = "1M8GDM9AXKP042788"
AT = 1795000000          # 2026-11-18T09:46:40Z: the verification time of every fixture
IAT = AT - 86400         # issued a day before
EXP = AT + 365 * 86400


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(name):
    with open(f"keys/{name}.private.pem", "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def jwks_kids():
    with open("keys/dev-jwks.json") as f:
        return {k["alg"]: k["kid"] for k in json.load(f)["keys"]}


KEYS = {"ES256": load("dev-es256"), "EdDSA": load("dev-eddsa")}
KIDS = jwks_kids()


def sign(key_alg: str, signing_input: bytes, der: bool = False) -> bytes:
    key = KEYS[key_alg]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(signing_input)
    signature = key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    if der:
        return signature
    r, s = decode_dss_signature(signature)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def claims(**changes):
    base = {"iss": ISSUER, "sub": VIN, "jti": "0192d3a0-7c00-7000-8000-000000000001", "iat": IAT,
            "nbf": IAT, "exp": EXP, "feature": "MATRIX_LED", "term": "P1Y", "dealer": "DE-1001"}
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return json.dumps(base, separators=(",", ":")).encode()


def header(alg="ES256", kid_alg=None, typ="fod-entitlement+jwt", **extra):
    h = {"alg": alg}
    if kid_alg != "none":
        h["kid"] = KIDS[kid_alg or alg] if (kid_alg or alg) in KIDS else "unknown-key-id"
    if typ is not None:
        h["typ"] = typ
    h.update(extra)
    return json.dumps(h, separators=(",", ":")).encode()


def token(header_bytes=None, payload=None, key_alg="ES256", der=False, mutate_sig=None, raw_header=False):
    header_bytes = header_bytes if header_bytes is not None else header()
    payload = payload if payload is not None else claims()
    signing_input = (b64(header_bytes) + "." + b64(payload)).encode()
    signature = sign(key_alg, signing_input, der=der)
    if mutate_sig:
        signature = mutate_sig(signature)
    return signing_input.decode() + "." + b64(signature)


cases = []


def case(name, text, expect, description, vin=None, manifest=False, last_version=None):
    with open(f"{OUT}/{name}.jwt", "w") as f:
        f.write(text + "\n")
    entry = {"file": f"{name}.jwt", "expect": expect, "description": description}
    if vin:
        entry["vin"] = vin
    if manifest:
        entry["manifest"] = True
    if last_version is not None:
        entry["lastVersion"] = last_version
    cases.append(entry)


os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    if old.endswith(".jwt"):
        os.remove(os.path.join(OUT, old))

good = token()
case("valid-es256", good, "ok", "ES256, one year, credited to a dealer", vin=VIN)
case("valid-eddsa-permanent", token(header("EdDSA"), claims(exp=None, term="permanent", dealer=None), key_alg="EdDSA"),
     "ok", "EdDSA, permanent (no exp), direct sale")
case("valid-ecu-bound", token(payload=claims(ecu="ECU-7731-A")), "ok", "bound to one ECU")
case("valid-within-leeway", token(payload=claims(nbf=AT + 30, iat=AT + 30)), "ok", "nbf and iat 30 s ahead: inside the 60 s leeway")

h, p, s = good.split(".")
case("bad-base64-padding", f"{h}.{p}=.{s}", "token_base64", "payload segment with '=' padding")
case("bad-base64-alphabet", f"{h}.{p[:-1]}+.{s}", "token_base64", "'+' is standard base64, not base64url")
last = s[-1]
flipped = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
idx = flipped.index(last)
case("bad-base64-trailing-bits", f"{h}.{p}.{s[:-1]}{flipped[idx ^ 1]}", "token_base64",
     "signature's last character has non-zero trailing bits")
case("two-segments", f"{h}.{p}", "token_malformed", "only two segments")
case("four-segments", f"{h}.{p}.{s}.{s}", "token_malformed", "four segments")
case("header-not-json", token(b"not json"), "header_malformed", "header is not JSON")
case("header-duplicate-member", token(b'{"alg":"ES256","alg":"ES256","kid":"%s","typ":"fod-entitlement+jwt"}' % KIDS["ES256"].encode()),
     "header_malformed", "header names alg twice")
case("header-extra-member", token(header(jku="https://attacker.example/jwks.json")), "header_member_unknown",
     "header has jku")
case("header-crit", token(header(crit=["exp"])), "header_crit", "header has crit")
case("alg-none", f"{b64(header('none', kid_alg='ES256'))}.{p}.", "alg_not_allowed", "alg none, empty signature")
case("alg-hs256", token(header("HS256", kid_alg="ES256")), "alg_not_allowed", "HMAC alg")
case("typ-missing", token(header(typ=None)), "typ_mismatch", "no typ")
case("typ-manifest-as-entitlement", token(header(typ="fod-manifest+jwt")), "typ_mismatch", "a manifest typ where an entitlement is expected")
case("kid-missing", token(header(kid_alg="none")), "kid_missing", "no kid")
case("kid-unknown", token(header(kid_alg="unknown")), "key_unknown", "kid of no trusted key")
case("alg-wrong-for-key", token(header("EdDSA", kid_alg="ES256"), key_alg="EdDSA"), "key_alg_mismatch",
     "header says EdDSA but kid names the ES256 key")
case("signature-der", token(der=True), "signature_length", "ES256 signature in DER instead of raw r||s")
case("signature-truncated", token(mutate_sig=lambda sig: sig[:63]), "signature_length", "63-byte signature")
case("signature-empty", f"{h}.{p}.", "signature_length", "empty signature segment")
case("signature-flipped-bit", token(mutate_sig=lambda sig: sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]),
     "signature_invalid", "one bit of the signature flipped")
case("signature-r-zero", token(mutate_sig=lambda sig: bytes(32) + sig[32:]), "signature_invalid", "r = 0")
case("payload-swapped", f"{h}.{b64(claims(feature='NAV_PLUS'))}.{s}", "signature_invalid",
     "payload changed after signing")
case("claims-not-json", token(payload=b"[1,2,3]"), "claims_malformed", "payload is a JSON array")
case("claims-duplicate", token(payload=claims()[:-1] + b',"feature":"NAV_PLUS"}'), "claims_duplicate",
     "feature claimed twice")
case("claim-missing-jti", token(payload=claims(jti=None)), "claim_missing", "no jti")
case("claim-missing-exp", token(payload=claims(exp=None)), "claim_missing", "P1Y without exp")
case("claim-type-iat-string", token(payload=claims(iat=str(IAT))), "claim_type", "iat as a string")
case("claim-type-exp-fraction", token(payload=claims()[:-1].replace(f'"exp":{EXP}'.encode(), f'"exp":{EXP}.5'.encode()) + b"}"),
     "claim_type", "exp with a fraction")
case("claim-unknown", token(payload=claims(admin=True)), "claim_unknown", "claim fod does not define")
case("claim-bad-feature", token(payload=claims(feature="matrix-led")), "claim_invalid", "feature code in lower case")
case("claim-bad-term", token(payload=claims(term="P2W")), "claim_invalid", "term not in the list")
case("claim-permanent-with-exp", token(payload=claims(term="permanent")), "claim_invalid", "permanent with exp")
case("subject-lowercase", token(payload=claims(sub=VIN.lower())), "subject_invalid", "sub not normalized")
case("subject-check-digit", token(payload=claims(sub="1M8GDM9A0KP042788")), "subject_invalid",
     "North-American VIN with a wrong check digit")
case("issuer-wrong", token(payload=claims(iss="https://evil.example")), "issuer_mismatch", "other issuer")
case("vin-wrong", good, "vin_mismatch", "valid token, verified for another vehicle", vin=OTHER_VIN)
case("expired", token(payload=claims(iat=AT - 400 * 86400, nbf=AT - 400 * 86400, exp=AT - 61)), "expired",
     "expired 61 s ago (leeway 60 s)")
case("not-yet-valid", token(payload=claims(nbf=AT + 3600)), "not_yet_valid", "valid from an hour from now")
case("issued-in-future", token(payload=claims(iat=AT + 3600)), "issued_in_future", "iat an hour from now")
case("oversized", token(payload=claims(ecu=None)[:-1] + b',"pad":"' + b"x" * 9000 + b'"}'), "token_too_large",
     "more than 8 KiB")


def manifest(ver, entries, exp=AT + 7 * 86400, sub=VIN):
    body = {"iss": ISSUER, "sub": sub, "iat": IAT, "ver": ver, "exp": exp, "entitlements": entries}
    return json.dumps(body, separators=(",", ":")).encode()


entries = [{"jti": "0192d3a0-7c00-7000-8000-000000000001", "feature": "MATRIX_LED", "term": "P1Y", "nbf": IAT, "exp": EXP},
           {"jti": "0192d3a0-7c00-7000-8000-000000000002", "feature": "NAV_PLUS", "term": "permanent", "nbf": IAT}]
mh = header(typ="fod-manifest+jwt")
case("manifest-valid", token(mh, manifest(8, entries)), "ok", "manifest version 8 over held version 7",
     vin=VIN, manifest=True, last_version=7)
case("manifest-rollback", token(mh, manifest(7, entries)), "manifest_rollback", "manifest version 7 when 7 is held",
     vin=VIN, manifest=True, last_version=7)
case("manifest-other-vehicle", token(mh, manifest(9, entries, sub=OTHER_VIN)), "vin_mismatch",
     "another vehicle's manifest", vin=VIN, manifest=True, last_version=7)
case("manifest-expired", token(mh, manifest(9, entries, exp=AT - 3600)), "expired", "stale manifest",
     vin=VIN, manifest=True, last_version=7)
case("manifest-as-entitlement", token(header(), manifest(9, entries)), "claim_unknown",
     "a manifest payload under an entitlement typ", vin=VIN)
case("entitlement-as-manifest", good, "typ_mismatch", "an entitlement offered as a manifest",
     vin=VIN, manifest=True, last_version=7)

with open(f"{OUT}/manifest.json", "w") as f:
    json.dump({"issuer": ISSUER, "keys": "keys/dev-jwks.json", "at": AT, "leeway": 60, "cases": cases}, f, indent=2)
    f.write("\n")
print(f"wrote {len(cases)} fixtures to {OUT}")
