#!/usr/bin/env python3
"""Checks fod's QR codes with two libraries fod did not write.

Reads JSON from stdin: a list of {"data_hex", "level" (L/M/Q/H), "version", "mask", "rows" (strings of 0/1)}.
For each symbol, writes {"reference_equal": bool, "decoded_hex": str or null} to stdout:
- reference_equal: python-qrcode (pure-Python encoder) makes exactly the same modules for the same
  data, level, version and mask (segno is not used: it pads a byte-aligned stream with an extra zero
  byte, which is valid but not what ISO/IEC 18004 7.4.10 says);
- decoded_hex: what zxing-cpp reads from fod's modules rendered as an image (4 px per module,
  4-module quiet zone).
"""
import json
import sys

import numpy
import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData
import zxingcpp


def main():
    cases = json.load(sys.stdin)
    results = []
    for case in cases:
        data = bytes.fromhex(case["data_hex"])
        levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
                  "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
        reference = qrcode.QRCode(version=case["version"], error_correction=levels[case["level"]], border=0,
                                  mask_pattern=case["mask"])
        reference.add_data(QRData(data, mode=MODE_8BIT_BYTE))
        reference.make(fit=False)
        ours = [[int(c) for c in row] for row in case["rows"]]
        theirs = [[int(c) for c in row] for row in reference.get_matrix()]
        size = len(ours) + 8
        image = numpy.full((size * 4, size * 4), 255, dtype=numpy.uint8)
        for y, row in enumerate(ours):
            for x, dark in enumerate(row):
                if dark:
                    image[(y + 4) * 4:(y + 5) * 4, (x + 4) * 4:(x + 5) * 4] = 0
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        results.append({"reference_equal": ours == theirs, "decoded_hex": found[0].bytes.hex() if found else None})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
