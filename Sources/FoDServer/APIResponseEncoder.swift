import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Writes the typed answers (``FoDAPI``) as JSON: members in declaration order, `/` unescaped,
/// `Content-Type: application/json` and `Cache-Control: no-store` (many answers carry a token or
/// a key, and none is worth a cache keeping).
public struct APIResponseEncoder: ResponseEncoder {
    /// The encoder (thread-safe; its settings never change after this).
    static let json: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    public init() {}

    /// The value's JSON bytes.
    static func bytes(_ value: some Encodable) throws -> [UInt8] { Array(try json.encode(value)) }

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let data = try APIResponseEncoder.json.encode(value)
        return APIResponseEncoder.response(ByteBuffer(bytes: data))
    }

    /// A JSON answer of bytes already written (a stored idempotent answer).
    static func response(_ body: ByteBuffer, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

// The typed answers are what handlers return.
extension HealthStatus: ResponseEncodable {}
extension MeResponse: ResponseEncodable {}
extension FeatureList: ResponseEncodable {}
extension VehicleBody: ResponseEncodable {}
extension OfferList: ResponseEncodable {}
extension EntitlementBody: ResponseEncodable {}
extension EntitlementList: ResponseEncodable {}
extension IssueResponse: ResponseEncodable {}
extension RevokeResponse: ResponseEncodable {}
extension RefundResponse: ResponseEncodable {}
extension VerifyResponse: ResponseEncodable {}
extension ManifestResponse: ResponseEncodable {}
extension StatementsResponse: ResponseEncodable {}
extension ActivationsResponse: ResponseEncodable {}
extension AuditPage: ResponseEncodable {}
