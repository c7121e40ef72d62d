/// Canonical unpadded base64url (RFC 4648 §5, as RFC 7515 §2 uses it).
///
/// Hand-written rather than taken from a package because JWS needs a *strict* decoder:
/// padding, characters outside the alphabet, a length of 4n+1 and non-zero trailing bits
/// are all rejected, so that every byte string has exactly one accepted encoding.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0xFF marks a byte outside the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes as unpadded base64url text.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encodeBytes(Array(bytes)), as: UTF8.self)
    }

    /// Encodes bytes as unpadded base64url, returning the ASCII bytes.
    public static func encodeBytes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLength(bytes.count))
        append(bytes, to: &out)
        return out
    }

    /// The length of the unpadded encoding of `count` bytes.
    public static func encodedLength(_ count: Int) -> Int {
        (count / 3) * 4 + [0, 2, 3][count % 3]
    }

    /// Appends the unpadded base64url encoding of `bytes` to `out`.
    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        let length = encodedLength(bytes.count)
        out.append(contentsOf: repeatElement(0, count: length))
        bytes.withUnsafeBufferPointer { input in
            alphabet.withUnsafeBufferPointer { table in
                out.withUnsafeMutableBufferPointer { buffer in
                    var o = start
                    var index = 0
                    let count = input.count
                    while index + 3 <= count {
                        let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                        buffer[o] = table[Int(value >> 18 & 63)]
                        buffer[o + 1] = table[Int(value >> 12 & 63)]
                        buffer[o + 2] = table[Int(value >> 6 & 63)]
                        buffer[o + 3] = table[Int(value & 63)]
                        index += 3
                        o += 4
                    }
                    switch count - index {
                    case 1:
                        let value = UInt32(input[index]) << 16
                        buffer[o] = table[Int(value >> 18 & 63)]
                        buffer[o + 1] = table[Int(value >> 12 & 63)]
                    case 2:
                        let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
                        buffer[o] = table[Int(value >> 18 & 63)]
                        buffer[o + 1] = table[Int(value >> 12 & 63)]
                        buffer[o + 2] = table[Int(value >> 6 & 63)]
                    default:
                        break
                    }
                }
            }
        }
    }

    /// Decodes canonical unpadded base64url text.
    /// - Throws: ``CryptoError`` with code `base64_malformed`.
    public static func decode(_ text: String) throws -> [UInt8] {
        var text = text
        return try text.withUTF8 { buffer in try decode(UnsafeRawBufferPointer(buffer)) }
    }

    /// Decodes canonical unpadded base64url from ASCII bytes.
    /// - Throws: ``CryptoError`` with code `base64_malformed`.
    public static func decode(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let count = input.count
        if count % 4 == 1 {
            throw CryptoError(.base64Malformed, "length \(count) is not a possible base64url length")
        }
        let outputLength = count / 4 * 3 + [0, 0, 1, 2][count % 4]
        var bad = false
        let out = [UInt8](unsafeUninitializedCapacity: outputLength) { buffer, initialized in
            decodeTable.withUnsafeBufferPointer { table in
                var index = 0
                var o = 0
                while index + 4 <= count {
                    let a = table[Int(input[index])], b = table[Int(input[index + 1])]
                    let c = table[Int(input[index + 2])], d = table[Int(input[index + 3])]
                    if (a | b | c | d) & 0x80 != 0 { bad = true; return }
                    let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    buffer[o] = UInt8(truncatingIfNeeded: value >> 16)
                    buffer[o + 1] = UInt8(truncatingIfNeeded: value >> 8)
                    buffer[o + 2] = UInt8(truncatingIfNeeded: value)
                    index += 4
                    o += 3
                }
                switch count - index {
                case 2:
                    let a = table[Int(input[index])], b = table[Int(input[index + 1])]
                    if (a | b) & 0x80 != 0 || b & 0x0F != 0 { bad = true; return }
                    buffer[o] = a << 2 | b >> 4
                case 3:
                    let a = table[Int(input[index])], b = table[Int(input[index + 1])], c = table[Int(input[index + 2])]
                    if (a | b | c) & 0x80 != 0 || c & 0x03 != 0 { bad = true; return }
                    buffer[o] = a << 2 | b >> 4
                    buffer[o + 1] = b << 4 | c >> 2
                default:
                    break
                }
            }
            initialized = bad ? 0 : outputLength
        }
        if bad {
            throw CryptoError(.base64Malformed, "not canonical unpadded base64url (bad character, padding or trailing bits)")
        }
        return out
    }
}
