import FoDCrypto
import FoDEntitlements
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// JSON in and out, with fod's strict parser and deterministic writer.
enum JSONBody {
    /// A JSON response.
    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        response(bytes: JSONWriter.text(value, indent: 0).utf8.map { $0 }, status: status, headers: headers)
    }

    /// Every JSON answer is `Cache-Control: no-store`: many carry a token or a key, and none is
    /// worth a cache keeping.
    static func response(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The request body as a JSON object with only `allowed` members and all of `required`.
    /// - Throws: ``APIError`` 400 `body_malformed`, 422 `field_unknown` / `field_missing` / `field_type`.
    static func object(_ request: Request, _ context: FoDRequestContext, allowed: Set<String>, required: Set<String>,
                       loose: Set<String> = []) async throws -> (JSONObject, [UInt8]) {
        try requireJSONContentType(request)
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: context.maxUploadSize) } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(context.maxUploadSize) bytes")
        } catch {
            throw APIError(.badRequest, "body_malformed", "the request body could not be read (broken framing or a cut connection)")
        }
        let bytes = Array(buffer.readableBytesView)
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch let error as EntitlementError {
            throw APIError(.badRequest, "body_malformed", "the body is not valid JSON: \(error.reason)")
        }
        guard case .object(let object) = value else { throw APIError(.badRequest, "body_malformed", "the body must be a JSON object") }
        for member in object.members where !allowed.contains(member.name) {
            throw APIError(.unprocessableContent, "field_unknown", "unknown field \"\(member.name.prefix(40))\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        for name in required.sorted() where object[name] == nil {
            throw APIError(.unprocessableContent, "field_missing", "\"\(name)\" is required")
        }
        for member in object.members where member.value.string == nil && member.value != .null && !loose.contains(member.name) {
            throw APIError(.unprocessableContent, "field_type", "\"\(member.name)\" must be a string")
        }
        return (object, bytes)
    }

    /// A body must say it is JSON (`application/json` or `application/…+json`, any parameters);
    /// a request without a Content-Type is read as JSON.
    /// - Throws: ``APIError`` 415 `unsupported_media_type`.
    static func requireJSONContentType(_ request: Request) throws {
        guard let value = request.headers[.contentType] else { return }
        let type = value.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "the body must be JSON (Content-Type: application/json), not \(type.prefix(60))")
        }
    }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members: members.map { JSONObject.Member(name: $0.0, value: $0.1) }))
    }

    static func int(_ value: Int64) -> JSONValue { .number(String(value)) }
    static func optionalInt(_ value: Int64?) -> JSONValue { value.map(int) ?? .null }
}
