import FoDCore
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Request bodies: JSON only, within the context's size limit, decoded strictly into their typed
/// model (``StrictJSON``: a duplicate or unknown member is refused, as are missing and mistyped ones).
enum RequestBody {
    /// The body decoded as `type`, and its bytes.
    /// - Throws: ``APIError`` 415 `unsupported_media_type`, 413 `body_too_large`, 400 `body_malformed`;
    ///   ``EntitlementError`` (422) `field_unknown` / `field_missing` / `field_type` or a member's own code.
    static func decode<T: StrictDecodable>(_ type: T.Type, _ request: Request, _ context: FoDRequestContext, whenEmpty: T? = nil) async throws -> (T, [UInt8]) {
        try requireJSONContentType(request)
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: context.maxUploadSize) } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(context.maxUploadSize) bytes")
        } catch {
            throw APIError(.badRequest, "body_malformed", "the request body could not be read (broken framing or a cut connection)")
        }
        let bytes = Array(buffer.readableBytesView)
        // A request whose members are all optional may come without a body.
        if bytes.isEmpty, let whenEmpty { return (whenEmpty, bytes) }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch let error as EntitlementError {
            throw APIError(.badRequest, "body_malformed", "the body is not valid JSON: \(error.reason)")
        }
        guard case .object(let object) = value else { throw APIError(.badRequest, "body_malformed", "the body must be a JSON object") }
        return (try StrictJSON.decode(type, from: object), bytes)
    }

    /// A body must say it is JSON (`application/json` or `application/…+json`, any parameters);
    /// a request without a Content-Type is read as JSON. The header is parsed by Hummingbird's
    /// `MediaType` (RFC 9110 §8.3.1), not by hand: a value it cannot parse is refused.
    /// - Throws: ``APIError`` 415 `unsupported_media_type`.
    static func requireJSONContentType(_ request: Request) throws {
        guard let value = request.headers[.contentType] else { return }
        guard isJSON(value) else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "the body must be JSON (Content-Type: application/json), not \(DisplayText.sanitized(value, maxLength: 60))")
        }
    }

    /// Whether a `Content-Type` value names JSON: `application/json` or `application/…+json`.
    static func isJSON(_ value: String) -> Bool {
        guard let type = MediaType(from: value), type.type == .application else { return false }
        return type.subType == "json" || (type.subType.count > 5 && type.subType.hasSuffix("+json"))
    }

    /// Whether a `Content-Type` value names an HTML form (`application/x-www-form-urlencoded`).
    static func isForm(_ value: String?) -> Bool {
        guard let value, let type = MediaType(from: value) else { return false }
        return type.type == .application && type.subType == "x-www-form-urlencoded"
    }
}
