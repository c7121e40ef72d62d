import FoDCrypto
import Testing

@Suite("Canonical base64url")
struct Base64URLTests {
    @Test("RFC 4648 test vectors, unpadded, and every length round-trips")
    func vectors() throws {
        let cases = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(try Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(try Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            #expect(Base64URL.encode(bytes).count == Base64URL.encodedLength(length))
        }
    }

    @Test("non-canonical input is refused", arguments: ["Zg==", "Zm8=", "Zh", "Zm9", "Z", "Zm9vY", "Zm+v", "Zm/v", "Zm9v\n", " Zm9v", "Zm9v!", "Zm\u{e9}v"])
    func refused(input: String) {
        #expect(throws: CryptoError(.base64Malformed, "")) { try Base64URL.decode(input) }
    }
}
