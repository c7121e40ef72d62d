#!/usr/bin/env python3
"""Writes Tests/Vectors/iban/schwifty.json: IBANs and schwifty's verdict on each, for the IBAN
validator's cross-check (Tests/FoDServerTests/PayoutTests.swift).

    .venv-test/bin/pip install schwifty==2026.10.1 && .venv-test/bin/python3 scripts/make-iban-vectors.py

For every country of the registry that schwifty does not mark aspirational: valid random IBANs
(use_registry=False, a fixed seed), then mutations of them — one character changed, two adjacent
swapped, one dropped, one added — each with schwifty's answer (IBAN(text) raises or not; the
country's own national check digits are not checked, validate_bban=False, as fod does not either).
"""
import json
import os
import random

import schwifty
from schwifty import IBAN
from schwifty import registry

# The countries of schwifty's IBAN registry (its iban_registry/*.json).
COUNTRIES = set()
for name in ("generated.json", "overwrite.json"):
    with open(os.path.join(os.path.dirname(schwifty.__file__), "iban_registry", name)) as f:
        COUNTRIES |= set(json.load(f))

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def verdict(text):
    try:
        IBAN(text)
        return True
    except Exception:
        return False


def main():
    rng = random.Random(13616)
    vectors = []
    for country in sorted(COUNTRIES):
        if registry.get_iban_spec(country).aspirational:
            continue
        for _ in range(3):
            valid = str(IBAN.random(country_code=country, random=rng, use_registry=False))
            vectors.append({"iban": valid, "valid": verdict(valid)})
            for _ in range(4):
                chars = list(valid)
                at = rng.randrange(len(chars))
                kind = rng.randrange(4)
                if kind == 0:
                    chars[at] = rng.choice([c for c in ALPHABET if c != chars[at]])
                elif kind == 1 and at + 1 < len(chars):
                    chars[at], chars[at + 1] = chars[at + 1], chars[at]
                elif kind == 2:
                    del chars[at]
                else:
                    chars.insert(at, rng.choice(ALPHABET))
                text = "".join(chars)
                if text != valid:
                    vectors.append({"iban": text, "valid": verdict(text)})
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Vectors", "iban", "schwifty.json")
    with open(out, "w") as f:
        json.dump({"generator": f"schwifty {schwifty.__version__}", "vectors": vectors}, f, indent=0)
    print(f"{len(vectors)} vectors, {sum(v['valid'] for v in vectors)} valid")


if __name__ == "__main__":
    main()
