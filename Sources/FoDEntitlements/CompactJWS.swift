import FoDCrypto

/// A JWS in compact serialization, split and base64url-decoded (verification steps 1 and 2).
/// Nothing in it is trusted yet.
public struct CompactJWS: Sendable {
    /// The decoded protected header (JSON text, not yet parsed).
    public let headerBytes: [UInt8]
    /// The decoded payload.
    public let payload: [UInt8]
    /// The decoded signature.
    public let signature: [UInt8]
    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes the signature covers.
    public let signingInput: [UInt8]

    /// Default limit on the length of a compact token.
    public static let defaultMaxLength = 8 * 1024

    /// Splits and decodes a compact JWS.
    /// - Throws: ``EntitlementError`` `token_too_large`, `token_malformed` or `token_base64`.
    public init(_ token: String, maxLength: Int = CompactJWS.defaultMaxLength) throws {
        var token = token
        self = try token.withUTF8 { try CompactJWS(bytes: UnsafeRawBufferPointer($0), maxLength: maxLength) }
    }

    /// Splits and decodes a compact JWS given as ASCII bytes.
    /// - Throws: ``EntitlementError`` `token_too_large`, `token_malformed` or `token_base64`.
    public init(bytes: UnsafeRawBufferPointer, maxLength: Int = CompactJWS.defaultMaxLength) throws {
        guard bytes.count <= maxLength else {
            throw EntitlementError(.tokenTooLarge, "token is \(bytes.count) bytes; the limit is \(maxLength)")
        }
        var dots: [Int] = []
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: ".") {
            dots.append(index)
            if dots.count > 2 { break }
        }
        guard dots.count == 2 else {
            throw EntitlementError(.tokenMalformed, "a compact JWS has exactly three segments separated by '.'")
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<dots[0]])
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(dots[0] + 1)..<dots[1]])
        let signature = UnsafeRawBufferPointer(rebasing: bytes[(dots[1] + 1)...])
        self.headerBytes = try CompactJWS.decodeSegment(header, "header")
        self.payload = try CompactJWS.decodeSegment(payload, "payload")
        self.signature = try CompactJWS.decodeSegment(signature, "signature")
        self.signingInput = Array(UnsafeRawBufferPointer(rebasing: bytes[0..<dots[1]]))
    }

    private static func decodeSegment(_ segment: UnsafeRawBufferPointer, _ name: String) throws -> [UInt8] {
        do { return try Base64URL.decode(segment) } catch {
            throw EntitlementError(.tokenBase64, "the \(name) segment is not canonical unpadded base64url")
        }
    }

    /// Builds a compact JWS: `BASE64URL(header).BASE64URL(payload)` signed with `key`.
    static func sign(encodedHeader: [UInt8], payload: [UInt8], key: PrivateKey) throws -> String {
        var bytes = encodedHeader
        bytes.reserveCapacity(encodedHeader.count + Base64URL.encodedLength(payload.count) + 90)
        bytes.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &bytes)
        let signature: [UInt8]
        do { signature = try bytes.withUnsafeBytes { try key.signature(for: $0) } } catch {
            throw EntitlementError(.signingFailed, "signing failed: \(error)")
        }
        bytes.append(UInt8(ascii: "."))
        Base64URL.append(signature, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
