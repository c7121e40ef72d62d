#!/usr/bin/env python3
"""Writes fixtures/vehicle/: a vehicle's life as steps, each with the code the vehicle library must
give — attested time (right and wrong nonce, rollback, a key without the time scope), manifests
(newer, rolled back, tampered, for another VIN, signed by a retired key, an entitlement offered as
one), a single entitlement, the offline grace, a root below threshold, a root that expires. Made
with Python's `cryptography` alone on the keys and roots of fixtures/trust/ (the same independent
implementation as make_trust_fixtures.py). Run once; the output is committed.

    python3 scripts/interop/make_vehicle_fixtures.py fixtures
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_trust_fixtures import DAY, ISSUER, T0, VIN, Key, token  # noqa: E402

OTHER_VIN = "WAUZZZF45RA000001"
N1, N2, N3, N4 = "nonce-one-000000000001", "nonce-two-000000000002", "nonce-three-0000000003", "nonce-four-00000000004"


def manifest(key, ver, iat, entries, sub=VIN):
    return token(key, {"iss": ISSUER, "sub": sub, "iat": iat, "ver": ver, "exp": iat + 7 * DAY, "entitlements": entries},
                 "fod-manifest+jwt")


def entry(jti, feature, term, nbf, exp=None):
    value = {"jti": jti, "feature": feature, "term": term, "nbf": nbf}
    if exp is not None:
        value["exp"] = exp
    return value


def main() -> int:
    fixtures = sys.argv[1]
    trust = os.path.join(fixtures, "trust")
    out = os.path.join(fixtures, "vehicle")
    os.makedirs(out, exist_ok=True)
    a = Key(trust, "issuing-a", "ES256")
    b = Key(trust, "issuing-b", "EdDSA", kid="hsm:fod-issuing-b")
    e = Key(trust, "issuing-e-entitlements-only", "ES256")
    t = Key(trust, "issuing-t-time", "ES256")

    led = entry("b-led", "MATRIX_LED", "P1Y", T0 + 40 * DAY, T0 + 405 * DAY)
    nav = entry("b-nav", "NAV_PLUS", "permanent", T0 + 40 * DAY)
    m2 = manifest(b, 2, T0 + 40 * DAY, [led, nav])
    header, payload, signature = m2.split(".")
    forged = manifest(b, 2, T0 + 40 * DAY, [led, nav, entry("x-acc", "ACC", "permanent", T0)]).split(".")[1]
    files = {
        "time-1.jwt": token(t, {"iss": ISSUER, "iat": T0 + 40 * DAY, "nonce": N1}, "fod-time+jwt"),
        "time-old.jwt": token(t, {"iss": ISSUER, "iat": T0 + 36 * DAY, "nonce": N3}, "fod-time+jwt"),
        "time-by-entitlement-key.jwt": token(e, {"iss": ISSUER, "iat": T0 + 41 * DAY, "nonce": N3}, "fod-time+jwt"),
        "time-2.jwt": token(t, {"iss": ISSUER, "iat": T0 + 50 * DAY, "nonce": N4}, "fod-time+jwt"),
        "manifest-1.jwt": manifest(b, 1, T0 + 39 * DAY, [led]),
        "manifest-2.jwt": m2,
        "manifest-2-tampered.jwt": f"{header}.{forged}.{signature}",
        "manifest-3-other-vin.jwt": manifest(b, 3, T0 + 40 * DAY, [], sub=OTHER_VIN),
        "manifest-3-retired-key.jwt": manifest(a, 3, T0 + 40 * DAY, [led, nav]),
        "manifest-3.jwt": manifest(b, 3, T0 + 50 * DAY, [nav]),
        "entitlement-acc.jwt": token(b, {"iss": ISSUER, "sub": VIN, "jti": "b-acc", "iat": T0 + 45 * DAY, "nbf": T0 + 45 * DAY,
                                         "exp": T0 + 75 * DAY, "feature": "ACC", "term": "P1M"}, "fod-entitlement+jwt"),
    }
    for name, text in files.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text + "\n")

    ms = lambda days: int(days * DAY * 1000)
    car = {"vin": VIN, "market": "DE", "production_time": T0 + 35 * DAY, "offline_grace": 7 * DAY}
    cases = [
        dict(car, name="a car's life: root 1 to 3, attested time, manifests, a single entitlement, the offline grace, a restart", steps=[
            {"op": "root", "file": "trust/root-2.json", "expect": "ok"},
            {"op": "root", "file": "trust/root-3.json", "expect": "ok"},
            {"op": "trust", "at_ms": 0, "expect": "ok"},
            {"op": "time", "file": "vehicle/time-1.jwt", "nonce": N2, "at_ms": 1000, "expect": "time_nonce_mismatch"},
            {"op": "time", "file": "vehicle/time-1.jwt", "nonce": N1, "at_ms": 1000, "expect": "ok"},
            {"op": "time", "file": "vehicle/time-old.jwt", "nonce": N3, "at_ms": 1000, "expect": "time_rollback"},
            {"op": "time", "file": "vehicle/time-by-entitlement-key.jwt", "nonce": N3, "at_ms": 1000, "expect": "key_scope"},
            {"op": "feature", "feature": "MATRIX_LED", "at_ms": 1000, "expect": "feature_not_entitled"},
            {"op": "manifest", "file": "vehicle/manifest-2.jwt", "at_ms": 2000, "expect": "ok"},
            {"op": "feature", "feature": "MATRIX_LED", "at_ms": 2000, "expect": "ok"},
            {"op": "feature", "feature": "NAV_PLUS", "at_ms": 2000, "expect": "ok"},
            {"op": "feature", "feature": "ACC", "at_ms": 2000, "expect": "feature_not_entitled"},
            {"op": "manifest", "file": "vehicle/manifest-1.jwt", "at_ms": 2000, "expect": "manifest_rollback"},
            {"op": "manifest", "file": "vehicle/manifest-2.jwt", "at_ms": 2000, "expect": "manifest_rollback"},
            {"op": "manifest", "file": "vehicle/manifest-2-tampered.jwt", "at_ms": 2000, "expect": "signature_invalid"},
            {"op": "manifest", "file": "vehicle/manifest-3-other-vin.jwt", "at_ms": 2000, "expect": "vin_mismatch"},
            {"op": "manifest", "file": "vehicle/manifest-3-retired-key.jwt", "at_ms": 2000, "expect": "key_unknown"},
            {"op": "manifest", "file": "trust/tokens/b-entitlement.jwt", "at_ms": 2000, "expect": "typ_mismatch"},
            {"op": "feature", "feature": "ACC", "at_ms": 2000, "expect": "feature_not_entitled"},
            {"op": "reload", "at_ms": 3000, "expect": "ok"},
            {"op": "manifest", "file": "vehicle/manifest-2.jwt", "at_ms": 500, "expect": "manifest_rollback"},
            {"op": "feature", "feature": "MATRIX_LED", "at_ms": 500 + ms(8), "expect": "time_unattested"},
            {"op": "feature", "feature": "NAV_PLUS", "at_ms": 500 + ms(8), "expect": "ok"},
            {"op": "entitlement", "file": "vehicle/entitlement-acc.jwt", "at_ms": 500 + ms(8), "expect": "time_unattested"},
            {"op": "time", "file": "vehicle/time-2.jwt", "nonce": N4, "at_ms": 500 + ms(8), "expect": "ok"},
            {"op": "feature", "feature": "MATRIX_LED", "at_ms": 600 + ms(8), "expect": "ok"},
            {"op": "manifest", "file": "vehicle/manifest-3.jwt", "at_ms": 700 + ms(8), "expect": "ok"},
            {"op": "feature", "feature": "MATRIX_LED", "at_ms": 700 + ms(8), "expect": "feature_not_entitled"},
            {"op": "entitlement", "file": "vehicle/entitlement-acc.jwt", "at_ms": 800 + ms(8), "expect": "ok"},
            {"op": "feature", "feature": "ACC", "at_ms": 800 + ms(8), "expect": "ok"},
            {"op": "feature", "feature": "ACC", "at_ms": 800 + ms(38), "expect": "expired"},
        ]),
        dict(car, name="a root below threshold is refused and changes nothing; the right one is then taken", steps=[
            {"op": "root", "file": "trust/bad/root-2-one-signature.json", "expect": "root_threshold"},
            {"op": "root", "file": "trust/bad/root-2-unknown-signer.json", "expect": "root_threshold"},
            {"op": "root", "file": "trust/root-3.json", "expect": "root_version_skipped"},
            {"op": "root", "file": "trust/root-2.json", "expect": "ok"},
            {"op": "root", "file": "trust/root-1.json", "expect": "root_rollback"},
        ]),
        dict(car, name="freeze: without a newer root, the newest expires and nothing new is taken", steps=[
            {"op": "trust", "at_ms": ms(329), "expect": "ok"},
            {"op": "trust", "at_ms": ms(331), "expect": "root_expired"},
            {"op": "manifest", "file": "vehicle/manifest-2.jwt", "at_ms": ms(331), "expect": "root_expired"},
        ]),
    ]
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"issuer": ISSUER, "root": "trust/root-1.json", "cases": cases}, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
