#!/usr/bin/env python3
"""The monthly dealer statements computed by DuckDB in SQL, independently of fod's engine:
the reference that `fod report` is checked and timed against.

    python3 duckdb_statements.py EVENTS.csv RULES.json YYYY-MM OUT.csv [--no-vin-check]

Implements docs/revenue-share.md in SQL: first-match rules, monthly tiers, half-even rounding in
integer arithmetic, clawbacks of the earliest valid refund within the window, first occurrence of
a duplicated event id. Rows fod rejects for their form (bad timestamp, unknown currency, negative
amount, VAT out of range, invalid VIN) are dropped here by the same tests. `--no-vin-check` skips
the VIN test (the costliest in SQL), for timing on files known to hold only valid VINs, such as
those `fod gen events` writes. Writes statements.csv's columns.
"""
import json
import sys

import duckdb



def half_even(numerator: str, denominator: str) -> str:
    """SQL for round_half_even(numerator / denominator) with non-negative integers."""
    q = f"(({numerator}) // ({denominator}))"
    r = f"(({numerator}) % ({denominator}))"
    return f"({q} + CASE WHEN 2 * {r} > ({denominator}) OR (2 * {r} = ({denominator}) AND {q} % 2 = 1) THEN 1 ELSE 0 END)"


def rule_case(rules, column):
    parts = []
    for rule in rules:
        conditions = []
        for field, sql in (("feature", "feature"), ("channel", "channel"), ("market", "market"), ("term", "term"), ("dealer_id", "dealer_id")):
            if field in rule:
                conditions.append(f"{sql} = '{rule[field]}'")
        value = {"id": f"'{rule['id']}'", "share": str(rule["share_bps"]), "fixed": str(rule.get("fixed_minor", 0)),
                 "cap": str(rule["cap_minor"]) if "cap_minor" in rule else "NULL"}[column]
        parts.append(f"WHEN {' AND '.join(conditions) if conditions else 'TRUE'} THEN {value}")
    return "CASE " + " ".join(parts) + " END"


def main():
    events, rules_path, period, out = sys.argv[1:5]
    check_vins = "--no-vin-check" not in sys.argv[5:]
    with open(rules_path) as f:
        rules = json.load(f)
    year, month = map(int, period.split("-"))
    prev = (year, month - 1) if month > 1 else (year - 1, 12)
    nxt = (year, month + 1) if month < 12 else (year + 1, 1)
    p_start, p_prev, p_end = f"{year:04d}-{month:02d}-01", f"{prev[0]:04d}-{prev[1]:02d}-01", f"{nxt[0]:04d}-{nxt[1]:02d}-01"
    tiers = sorted(rules.get("tiers", []), key=lambda t: t["min_activations"])
    tier_case = "CASE " + " ".join(f"WHEN n >= {t['min_activations']} THEN {t['bonus_bps']}" for t in reversed(tiers)) + " ELSE 0 END" if tiers else "0"
    window_seconds = rules["clawback_days"] * 86400
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    exponents = ",".join(f"('{c}', {e})" for c, e in CURRENCIES)
    # The VIN rule of docs/token-format.md in SQL: 17 characters of the VIN alphabet (input
    # upper-cased), and for North-American WMIs (1-5) the check digit of 49 CFR 565.15.
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    translit = "12345678_12345_7_923456789"  # A..Z; I, O, Q are not allowed
    terms = " + ".join(
        f"{w} * (CASE WHEN substr(v, {i + 1}, 1) BETWEEN '0' AND '9' THEN TRY_CAST(substr(v, {i + 1}, 1) AS INTEGER) "
        f"ELSE TRY_CAST(substr('{translit}', ascii(substr(v, {i + 1}, 1)) - 64, 1) AS INTEGER) END)"
        for i, w in enumerate(weights) if w)
    con.execute(f"""CREATE MACRO vin_ok(raw) AS (
        SELECT regexp_full_match(v, '[0-9A-HJ-NPR-Z]{{17}}')
           AND (substr(v, 1, 1) NOT BETWEEN '1' AND '5'
                OR substr(v, 9, 1) = CASE WHEN ({terms}) % 11 = 10 THEN 'X' ELSE CAST(({terms}) % 11 AS VARCHAR) END)
        FROM (SELECT upper(raw) AS v))""")
    sql = f"""
    WITH raw AS (
      SELECT *, row_number() OVER () AS rn FROM read_csv('{events}', header = true, ignore_errors = true, parallel = true,
        columns = {{'event_id': 'VARCHAR', 'occurred_at': 'TIMESTAMPTZ', 'kind': 'VARCHAR', 'refers_to': 'VARCHAR', 'vin': 'VARCHAR',
                   'feature': 'VARCHAR', 'term': 'VARCHAR', 'channel': 'VARCHAR', 'dealer_id': 'VARCHAR', 'market': 'VARCHAR',
                   'currency': 'VARCHAR', 'gross_minor': 'BIGINT', 'vat_bps': 'BIGINT'}})
    ),
    currencies(code, exponent) AS (VALUES {exponents}),
    valid AS (
      SELECT * FROM raw
      WHERE (kind = 'refund' AND refers_to IS NOT NULL)
         OR (kind = 'activation' AND gross_minor >= 0 AND vat_bps BETWEEN 0 AND 10000 AND currency IN (SELECT code FROM currencies)
             AND {"vin_ok(vin)" if check_vins else "TRUE"})
    ),
    firsts AS (SELECT * FROM valid QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY rn) = 1),
    acts AS (
      SELECT *, coalesce(dealer_id, '') AS dealer, occurred_at >= TIMESTAMPTZ '{p_start}' AS in_period
      FROM firsts WHERE kind = 'activation' AND occurred_at >= TIMESTAMPTZ '{p_prev}' AND occurred_at < TIMESTAMPTZ '{p_end}'
    ),
    tier_counts AS (SELECT dealer, in_period, count(*) AS n FROM acts WHERE dealer <> '' GROUP BY ALL),
    priced AS (
      SELECT a.*, {rule_case(rules['rules'], 'share')} AS share_bps, {rule_case(rules['rules'], 'fixed')} AS fixed_minor,
             {rule_case(rules['rules'], 'cap')} AS cap_minor,
             coalesce((SELECT {tier_case} FROM tier_counts t WHERE t.dealer = a.dealer AND t.in_period = a.in_period), 0) AS bonus
      FROM acts a
    ),
    alloc AS (
      SELECT *, {half_even('gross_minor * 10000', '10000 + vat_bps')} AS net FROM priced
    ),
    alloc2 AS (
      SELECT *, CASE WHEN share_bps > 0 THEN share_bps + bonus ELSE share_bps END AS rate FROM alloc
    ),
    shared AS (
      SELECT *, gross_minor - net AS vat,
        CASE WHEN dealer = '' THEN 0 ELSE least({half_even('net * rate', '10000')} + fixed_minor, coalesce(cap_minor, 9223372036854775807), net) END AS share
      FROM alloc2
    ),
    refunds AS (
      SELECT r.event_id AS refund_id, r.occurred_at AS refunded_at, r.refers_to
      FROM firsts r WHERE r.kind = 'refund' AND r.occurred_at >= TIMESTAMPTZ '{p_prev}' AND r.occurred_at < TIMESTAMPTZ '{p_end}'
    ),
    matched AS (
      SELECT s.event_id, s.dealer, s.currency, s.share, s.occurred_at, r.refund_id, r.refunded_at
      FROM refunds r JOIN shared s ON s.event_id = r.refers_to
      WHERE r.refunded_at >= s.occurred_at
      QUALIFY row_number() OVER (PARTITION BY s.event_id ORDER BY r.refunded_at, r.refund_id) = 1
    ),
    clawbacks AS (
      SELECT dealer, currency, count(*) AS clawbacks, sum(share) AS clawback FROM matched
      WHERE refunded_at >= TIMESTAMPTZ '{p_start}' AND refunded_at < TIMESTAMPTZ '{p_end}' AND dealer <> ''
        AND epoch_ns(refunded_at) - epoch_ns(occurred_at) <= CAST({window_seconds} AS BIGINT) * 1000000000
      GROUP BY ALL
    ),
    period_acts AS (
      SELECT dealer, currency, count(*) AS activations, sum(gross_minor) AS gross, sum(vat) AS vat, sum(net) AS net, sum(share) AS share
      FROM shared WHERE in_period GROUP BY ALL
    ),
    statements AS (
      SELECT coalesce(p.dealer, c.dealer) AS dealer_id, coalesce(p.currency, c.currency) AS currency,
        coalesce(p.activations, 0) AS activations, coalesce(c.clawbacks, 0) AS clawbacks, coalesce(p.gross, 0) AS gross,
        coalesce(p.vat, 0) AS vat, coalesce(p.net, 0) AS net, coalesce(p.share, 0) AS share, coalesce(c.clawback, 0) AS clawback
      FROM period_acts p FULL OUTER JOIN clawbacks c ON p.dealer = c.dealer AND p.currency = c.currency
    )
    SELECT s.*, s.share - s.clawback AS payable,
      CASE WHEN s.dealer_id = '' THEN 0 ELSE coalesce((SELECT {tier_case} FROM tier_counts t WHERE t.dealer = s.dealer_id AND t.in_period), 0) END AS tier_bonus_bps,
      cur.exponent
    FROM statements s JOIN currencies cur ON cur.code = s.currency
    ORDER BY dealer_id, currency
    """
    rows = con.execute(sql).fetchall()
    with open(out, "w") as f:
        f.write("dealer_id,currency,activations,clawbacks,gross,vat,net,share,clawback,payable,tier_bonus_bps\n")
        for r in rows:
            dealer, currency, activations, clawbacks, gross, vat, net, share, clawback, payable, tier, exponent = r
            amounts = [fmt(v, exponent) for v in (gross, vat, net, share, clawback, payable)]
            f.write(",".join([dealer, currency, str(activations), str(clawbacks)] + amounts + [str(tier)]) + "\n")


def fmt(value: int, exponent: int) -> str:
    value = int(value)
    if exponent == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    digits = str(abs(value)).rjust(exponent + 1, "0")
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


# The ISO 4217 exponents fod's Currency table holds (list one, active codes with a minor unit).
CURRENCIES = [(c, int(e)) for c, e in (pair.split(":") for pair in """AED:2 AFN:2 ALL:2 AMD:2 ANG:2 AOA:2 ARS:2 AUD:2 AWG:2 AZN:2 BAM:2
BBD:2 BDT:2 BGN:2 BHD:3 BIF:0 BMD:2 BND:2 BOB:2 BOV:2 BRL:2 BSD:2 BTN:2 BWP:2 BYN:2 BZD:2 CAD:2 CDF:2 CHE:2 CHF:2 CHW:2 CLF:4 CLP:0
CNY:2 COP:2 COU:2 CRC:2 CUP:2 CVE:2 CZK:2 DJF:0 DKK:2 DOP:2 DZD:2 EGP:2 ERN:2 ETB:2 EUR:2 FJD:2 FKP:2 GBP:2 GEL:2 GHS:2 GIP:2 GMD:2
GNF:0 GTQ:2 GYD:2 HKD:2 HNL:2 HTG:2 HUF:2 IDR:2 ILS:2 INR:2 IQD:3 IRR:2 ISK:0 JMD:2 JOD:3 JPY:0 KES:2 KGS:2 KHR:2 KMF:0 KPW:2 KRW:0
KWD:3 KYD:2 KZT:2 LAK:2 LBP:2 LKR:2 LRD:2 LSL:2 LYD:3 MAD:2 MDL:2 MGA:2 MKD:2 MMK:2 MNT:2 MOP:2 MRU:2 MUR:2 MVR:2 MWK:2 MXN:2 MXV:2
MYR:2 MZN:2 NAD:2 NGN:2 NIO:2 NOK:2 NPR:2 NZD:2 OMR:3 PAB:2 PEN:2 PGK:2 PHP:2 PKR:2 PLN:2 PYG:0 QAR:2 RON:2 RSD:2 RUB:2 RWF:0 SAR:2
SBD:2 SCR:2 SDG:2 SEK:2 SGD:2 SHP:2 SLE:2 SOS:2 SRD:2 SSP:2 STN:2 SVC:2 SYP:2 SZL:2 THB:2 TJS:2 TMT:2 TND:3 TOP:2 TRY:2 TTD:2 TWD:2
TZS:2 UAH:2 UGX:0 USD:2 USN:2 UYI:0 UYU:2 UYW:4 UZS:2 VED:2 VES:2 VND:0 VUV:0 WST:2 XAF:0 XCD:2 XCG:2 XOF:0 XPF:0 YER:2 ZAR:2 ZMW:2
ZWG:2""".split())]

if __name__ == "__main__":
    main()
