#!/usr/bin/env python3
"""Recomputes every line of a fod lines.csv from its own columns in DuckDB (nothing else read):

    python3 scripts/interop/recompute_lines.py LINES.csv

    |share| = min(round_half_even(basis x rate_bps / 10000) + fixed, cap, basis), 0 without a dealer
    (negated on a clawback), in minor units (the decimal point dropped: amounts carry `decimals`).

Also checks that every occurred_at loads as a TIMESTAMP and all are written with one precision.
Prints one JSON line {"lines", "share_mismatches", "bad_timestamps", "precisions"}; exit 1 on any.
"""
import json
import sys

import duckdb

MINOR = "CAST(replace({0}, '.', '') AS HUGEINT)"

SQL = f"""
WITH l AS (
  SELECT kind, coalesce(dealer_id, '') AS dealer, occurred_at,
         {MINOR.format('basis')} AS b, {MINOR.format('fixed')} AS f,
         CASE WHEN cap IS NULL OR cap = '' THEN NULL ELSE {MINOR.format('cap')} END AS c,
         {MINOR.format('share')} AS s, CAST(rate_bps AS HUGEINT) AS rate
  FROM read_csv(?, header = true, all_varchar = true)
), q AS (
  SELECT *, (b * rate) // 10000 AS quotient, (b * rate) % 10000 AS remainder FROM l
), r AS (
  SELECT *, quotient + CASE WHEN 2 * remainder > 10000 THEN 1
                            WHEN 2 * remainder = 10000 AND quotient % 2 = 1 THEN 1 ELSE 0 END AS rounded FROM q
), e AS (
  SELECT *, CASE WHEN dealer = '' THEN 0 ELSE least(least(rounded + f, coalesce(c, rounded + f)), b) END AS expected FROM r
)
SELECT count(*),
       count(*) FILTER (WHERE s <> CASE WHEN kind = 'clawback' THEN -expected ELSE expected END),
       count(*) FILTER (WHERE TRY_CAST(occurred_at AS TIMESTAMP) IS NULL),
       count(DISTINCT length(occurred_at))
FROM e
"""


def main():
    lines, mismatches, bad_timestamps, precisions = duckdb.execute(SQL, [sys.argv[1]]).fetchone()
    print(json.dumps({"lines": lines, "share_mismatches": mismatches, "bad_timestamps": bad_timestamps, "precisions": precisions}))
    sys.exit(0 if lines > 0 and mismatches == 0 and bad_timestamps == 0 and precisions == 1 else 1)


if __name__ == "__main__":
    main()
