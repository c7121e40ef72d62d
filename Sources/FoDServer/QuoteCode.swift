import FoDCrypto

/// A quote's short code: what a customer reads out, types or shows as a QR code at another
/// touchpoint. Twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L, U; 30
/// symbols), shown in groups of four (`K7QM-3XHD-9RTA`): 30^12 ≈ 5.3·10^17 codes, about 59 bits
/// from the system's random source — with lookups by code rate-limited per key (``KeyedRateLimit``),
/// guessing one of the open quotes is impractical (docs/journeys.md, "Codes").
enum QuoteCode {
    /// The symbols, in the order their random values map to.
    static let alphabet = Array("ABCDEFGHJKMNPQRSTVWXYZ23456789".utf8)
    static let length = 12

    /// A new code, as stored (no dashes). Uniform: random bytes of 240 and above are drawn again.
    static func make() -> String {
        var symbols: [UInt8] = []
        let limit = UInt8(256 - 256 % alphabet.count)
        while symbols.count < length {
            for byte in SecureRandom.bytes(length * 2) where byte < limit && symbols.count < length {
                symbols.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return String(decoding: symbols, as: UTF8.self)
    }

    /// The code as shown: groups of four with dashes.
    static func display(_ code: String) -> String {
        var groups: [Substring] = []
        var rest = Substring(code)
        while !rest.isEmpty {
            groups.append(rest.prefix(4))
            rest = rest.dropFirst(4)
        }
        return groups.joined(separator: "-")
    }

    /// The stored form of what someone typed: upper case, without dashes and spaces (a form's `+`
    /// is a space); `nil` when it
    /// cannot be a code (wrong length, a symbol outside the alphabet).
    static func normalized(_ input: String) -> String? {
        let kept = input.uppercased().utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "+") }
        guard kept.count == length, kept.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return String(decoding: kept, as: UTF8.self)
    }
}
