import FoDCrypto
import Testing

@Suite("ECDSA signature encodings")
struct ECDSAEncodingTests {
    @Test("raw → DER → raw round-trips for edge values: zero, one, high bit set, full width")
    func roundTrips() throws {
        for (r, s) in [(UInt8(0), UInt8(0)), (1, 0x7F), (0x80, 0xFF)] {
            for fill in [false, true] {
                var raw = [UInt8](repeating: fill ? 0xAB : 0, count: 64)
                raw[31] = r
                raw[63] = s
                if !fill { raw[0] = 0; raw[32] = 0 }
                let der = try ECDSASignature.der(fromRaw: raw)
                #expect(try ECDSASignature.raw(fromDER: der) == raw)
            }
        }
        #expect(try ECDSASignature.der(fromRaw: [UInt8](repeating: 0, count: 64)) == [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00])
    }

    @Test("signatures OpenSSL makes convert to raw and back to the same DER")
    func matchesOpenSSL() throws {
        let key = try PrivateKey.generate(.es256)
        for index in 0..<200 {
            let message = Array("message \(index)".utf8)
            let raw = try key.signature(for: message)
            let der = try ECDSASignature.der(fromRaw: raw)
            try key.publicKey.verify(nativeSignature: der, for: message)
            #expect(try ECDSASignature.raw(fromDER: der) == raw)
        }
    }

    @Test("non-DER encodings are refused", arguments: [
        [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01],  // non-minimal r
        [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01],  // negative r
        [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00],  // trailing byte
        [0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],  // long-form length
        [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],  // not a SEQUENCE
        [0x30, 0x06, 0x02, 0x00, 0x02, 0x02, 0x01, 0x01],  // empty INTEGER
        [0x30, 0x06, 0x03, 0x01, 0x01, 0x02, 0x01, 0x01],  // not an INTEGER
    ] as [[UInt8]])
    func refused(der: [UInt8]) {
        #expect(throws: CryptoError(.signatureMalformed, "")) { try ECDSASignature.raw(fromDER: der) }
    }

    @Test("a value wider than 32 bytes is refused")
    func tooWide() {
        let der: [UInt8] = [0x30, 0x26, 0x02, 0x21, 0x01] + [UInt8](repeating: 1, count: 32) + [0x02, 0x01, 0x01]
        #expect(throws: CryptoError(.signatureMalformed, "")) { try ECDSASignature.raw(fromDER: der) }
    }

    @Test("the random pool hands out distinct bytes")
    func randomPool() {
        let pool = RandomPool()
        var seen = Set<[UInt8]>()
        for _ in 0..<2_000 { seen.insert(pool.bytes(10)) }
        #expect(seen.count == 2_000)
    }
}
