/// Conversion between JWS's raw `r‖s` ECDSA signatures (IEEE P1363) and the ASN.1 DER
/// `ECDSA-Sig-Value` that OpenSSL signs and verifies.
///
/// Written out rather than done with `ECDSA_SIG`/`BIGNUM`: the structure is two short
/// INTEGERs, and the OpenSSL route costs four allocations per token on the issue and verify
/// hot paths (measured in `fod-bench tokens`). The decoder accepts strict DER only.
public enum ECDSASignature {
    /// Byte length of each of `r` and `s` on P-256.
    static let scalarLength = 32

    /// Converts a 64-byte `r‖s` signature to DER.
    /// - Throws: ``CryptoError`` `signature_malformed` when the input is not 64 bytes.
    public static func der(fromRaw raw: [UInt8]) throws -> [UInt8] {
        try raw.withUnsafeBytes { try der(fromRaw: $0) }
    }

    static func der(fromRaw raw: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard raw.count == 2 * scalarLength else {
            throw CryptoError(.signatureMalformed, "ES256 signature is \(raw.count) bytes, expected 64")
        }
        var out: [UInt8] = []
        out.reserveCapacity(72)
        out.append(0x30)
        out.append(0)  // total length, set below
        appendInteger(UnsafeRawBufferPointer(rebasing: raw[0..<scalarLength]), to: &out)
        appendInteger(UnsafeRawBufferPointer(rebasing: raw[scalarLength...]), to: &out)
        out[1] = UInt8(out.count - 2)
        return out
    }

    /// Appends a DER INTEGER for an unsigned big-endian value: leading zeros dropped, one zero
    /// byte added when the high bit is set, zero encoded as a single 0x00.
    private static func appendInteger(_ value: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var start = 0
        while start < value.count - 1, value[start] == 0 { start += 1 }
        let pad = value[start] & 0x80 != 0
        out.append(0x02)
        out.append(UInt8(value.count - start + (pad ? 1 : 0)))
        if pad { out.append(0) }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[start...]))
    }

    /// Converts a DER `ECDSA-Sig-Value` to 64-byte `r‖s`, each half left-padded.
    /// - Throws: ``CryptoError`` `signature_malformed` for anything but strict DER with
    ///   non-negative values of at most 32 bytes, or trailing bytes.
    public static func raw(fromDER der: [UInt8]) throws -> [UInt8] {
        func fail(_ why: String) -> CryptoError { CryptoError(.signatureMalformed, "not a DER ECDSA signature: \(why)") }
        guard der.count >= 8, der[0] == 0x30, der[1] < 0x80, Int(der[1]) == der.count - 2 else {
            throw fail("bad SEQUENCE header or length")
        }
        var out = [UInt8](repeating: 0, count: 2 * scalarLength)
        var index = 2
        for half in 0..<2 {
            guard index + 2 <= der.count, der[index] == 0x02, der[index + 1] < 0x80 else { throw fail("expected a short INTEGER") }
            let length = Int(der[index + 1])
            index += 2
            guard length >= 1, index + length <= der.count else { throw fail("INTEGER length") }
            let body = der[index..<(index + length)]
            guard body.first! & 0x80 == 0 else { throw fail("negative INTEGER") }
            if length > 1, body.first! == 0, body[body.startIndex + 1] & 0x80 == 0 { throw fail("non-minimal INTEGER") }
            let value = body.first! == 0 && length > 1 ? body.dropFirst() : body
            guard value.count <= scalarLength else { throw fail("INTEGER wider than 32 bytes") }
            let offset = half * scalarLength + scalarLength - value.count
            out.replaceSubrange(offset..<(offset + value.count), with: value)
            index += length
        }
        guard index == der.count else { throw fail("trailing bytes") }
        return out
    }
}
