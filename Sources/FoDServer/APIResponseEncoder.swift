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
    static func bytes(_ value: some Encodable) throws -> [UInt8] {
        // The verify answer, the busiest, is written around the claims' own writer (the one the
        // token is signed with; the claim-table tests check it) instead of through a value tree.
        // Measured (scripts/bench-service.py, alternated pairs against 58f28f5): verify median
        // −7.5 % without this (pairs 1–6), +0.3 % with it (pairs 7–11, 13; means −6.9 % and −4.2 %),
        // noisy but the one step that moved it; docs/benchmarks.md.
        if type(of: value) == VerifyResponse.self, let verified = value as? VerifyResponse {
            return Array(#"{"valid":"#.utf8) + Array((verified.valid ? "true" : "false").utf8) + Array(#","claims":"#.utf8)
                + verified.claims.jsonBytes() + [UInt8(ascii: "}")]
        }
        // A quote's acceptance (three tokens and their prices) is written from its value tree (QuoteAcceptResponse.json).
        if type(of: value) == QuoteAcceptResponse.self, let accepted = value as? QuoteAcceptResponse {
            var writer = JSONWriter(capacity: 4096)
            writer.value(accepted.json)
            return writer.bytes
        }
        return try JSONValueEncoder().bytes(value)
    }

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
extension TimeResponse: ResponseEncodable {}
extension MeResponse: ResponseEncodable {}
extension FeatureList: ResponseEncodable {}
extension VehicleBody: ResponseEncodable {}
extension OfferList: ResponseEncodable {}
extension EntitlementBody: ResponseEncodable {}
extension EntitlementList: ResponseEncodable {}
extension IssueResponse: ResponseEncodable {}
extension RevokeResponse: ResponseEncodable {}
extension VehicleDealersBody: ResponseEncodable {}
extension WithdrawResponse: ResponseEncodable {}
extension CancelResponse: ResponseEncodable {}
extension ReinstateResponse: ResponseEncodable {}
extension TransferResponse: ResponseEncodable {}
extension ExpiringList: ResponseEncodable {}
extension RefundResponse: ResponseEncodable {}
extension VerifyResponse: ResponseEncodable {}
extension ManifestResponse: ResponseEncodable {}
extension VehicleStateResponse: ResponseEncodable {}
extension StatementsResponse: ResponseEncodable {}
extension ActivationsResponse: ResponseEncodable {}
extension AuditPage: ResponseEncodable {}
extension ClosedPeriodResponse: ResponseEncodable {}
extension CreditNotesResponse: ResponseEncodable {}
extension CreditNoteSummary: ResponseEncodable {}
extension ObjectionBody: ResponseEncodable {}
extension ObjectionsResponse: ResponseEncodable {}
extension BookExtractResponse: ResponseEncodable {}
extension WebhookBody: ResponseEncodable {}
extension WebhookList: ResponseEncodable {}
extension DeliveriesResponse: ResponseEncodable {}
extension PartnerBody: ResponseEncodable {}
extension PartnerList: ResponseEncodable {}
extension SiteBody: ResponseEncodable {}
extension SiteClosedBody: ResponseEncodable {}
extension SalespersonBody: ResponseEncodable {}
extension CatalogVersionBody: ResponseEncodable {}
extension CatalogVersionList: ResponseEncodable {}
extension CatalogAtBody: ResponseEncodable {}
extension CampaignBody: ResponseEncodable {}
extension CampaignList: ResponseEncodable {}
extension RetirementBody: ResponseEncodable {}
extension PlanBody: ResponseEncodable {}
extension PlanPreviewBody: ResponseEncodable {}

extension QuoteResponse: ResponseEncodable {}
extension QuotesResponse: ResponseEncodable {}
