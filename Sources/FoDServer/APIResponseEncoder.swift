import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Writes the typed answers (``FoDAPI``) as JSON with ``JSONValueEncoder``: members in the
/// model's order, the same bytes every time, `Content-Type: application/json` and
/// `Cache-Control: no-store` (many answers carry a token or a key, and none is worth a cache keeping).
public struct APIResponseEncoder: ResponseEncoder {
    public init() {}

    /// The value's JSON bytes.
    static func bytes(_ value: some Encodable) throws -> [UInt8] { try JSONValueEncoder().bytes(value) }

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        APIResponseEncoder.response(ByteBuffer(bytes: try APIResponseEncoder.bytes(value)))
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
