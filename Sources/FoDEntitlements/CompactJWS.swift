import FoDCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        let segments = try Segments(bytes, maxLength: maxLength)
        self.headerBytes = try segments.decodeHeader()
        self.payload = try segments.decodePayload()
        self.signature = try segments.decodeSignature()
        self.signingInput = Array(segments.signingInput)
    }

    /// The three segments of a compact token, located but not decoded (step 1).
    struct Segments {
        let header: UnsafeRawBufferPointer
        let payload: UnsafeRawBufferPointer
        let signature: UnsafeRawBufferPointer
        /// Header and payload with the dot between them.
        let signingInput: UnsafeRawBufferPointer

        init(_ bytes: UnsafeRawBufferPointer, maxLength: Int) throws {
            guard bytes.count <= maxLength else {
                throw EntitlementError(.tokenTooLarge, "token is \(bytes.count) bytes; the limit is \(maxLength)")
            }
            func dot(after start: Int) -> Int? {
                guard start < bytes.count, let base = bytes.baseAddress,
                      let found = memchr(base + start, Int32(UInt8(ascii: ".")), bytes.count - start) else { return nil }
                return UnsafeRawPointer(found) - base
            }
            guard let first = dot(after: 0), let second = dot(after: first + 1), dot(after: second + 1) == nil else {
                throw EntitlementError(.tokenMalformed, "a compact JWS has exactly three segments separated by '.'")
            }
            header = UnsafeRawBufferPointer(rebasing: bytes[0..<first])
            payload = UnsafeRawBufferPointer(rebasing: bytes[(first + 1)..<second])
            signature = UnsafeRawBufferPointer(rebasing: bytes[(second + 1)...])
            signingInput = UnsafeRawBufferPointer(rebasing: bytes[0..<second])
        }

        func decodeHeader() throws -> [UInt8] { try Segments.decode(header, "header") }
        func decodePayload() throws -> [UInt8] { try Segments.decode(payload, "payload") }
        func decodeSignature() throws -> [UInt8] { try Segments.decode(signature, "signature") }

        private static func decode(_ segment: UnsafeRawBufferPointer, _ name: String) throws -> [UInt8] {
            do { return try Base64URL.decode(segment) } catch {
                throw EntitlementError(.tokenBase64, "the \(name) segment is not canonical unpadded base64url")
            }
        }
    }

    /// Builds a compact JWS: `BASE64URL(header).BASE64URL(payload)` signed with `key`.
    static func sign(encodedHeader: [UInt8], payload: [UInt8], key: PrivateKey) throws -> String {
        var bytes = encodedHeader
        bytes.reserveCapacity(encodedHeader.count + Base64URL.encodedLength(payload.count) + 90)
        bytes.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &bytes)
        let signature: [UInt8]
        do { signature = try bytes.withUnsafeBytes { try key.signature(for: $0) } } catch let error as CryptoError where error.code == .pkcs11TokenUnavailable {
            throw error  // the token is away for now: its own code, so the service answers 503 and the next request tries again
        } catch {
            throw EntitlementError(.signingFailed, "signing failed: \(error)")
        }
        bytes.append(UInt8(ascii: "."))
        Base64URL.append(signature, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
