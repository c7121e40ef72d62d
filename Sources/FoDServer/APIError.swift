import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDInvoicing
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// An error answered as an RFC 9457 problem document (`application/problem+json`) with a stable
/// `code`. Domain errors are mapped here; the domain never throws HTTP errors.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// The stable code.
    public let code: String
    /// A sentence for the caller; never contains secrets.
    public let detail: String
    /// The `Allow` header of a 405.
    public let allow: String?
    /// The structured cause of a `not_eligible` refusal (the problem's `rule`, `feature`, `equipment`).
    public let refusal: Refusal?

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ code: String, _ detail: String, allow: String? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.allow = allow
        self.refusal = nil
    }

    /// 422 `not_eligible`: the refusal's sentence as the detail, its fields as members.
    public init(refusal: Refusal) {
        status = .unprocessableContent
        code = "not_eligible"
        detail = refusal.message
        allow = nil
        self.refusal = refusal
    }

    /// The problem document.
    var problem: Problem {
        Problem(type: "https://fod.dev/problems/\(code)", title: ProblemTitles.title(code), status: status.code, code: code, detail: detail,
                rule: refusal?.rule.rawValue, feature: refusal?.feature.value, equipment: refusal?.equipment)
    }

    /// A problem document's bytes.
    static func document(_ status: HTTPResponse.Status, _ code: String, _ detail: String) -> [UInt8] {
        (try? APIResponseEncoder.bytes(APIError(status, code, detail).problem)) ?? Array("{}".utf8)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        headers[.cacheControl] = "no-store"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow { headers[.allow] = allow }
        // The database fails for a while (a held lock, a full disk): a client may come back.
        if status == .serviceUnavailable { headers[.retryAfter] = "2" }
        let body = (try? APIResponseEncoder.bytes(problem)) ?? APIError.document(status, code, detail)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static let unauthorized = APIError(.unauthorized, "unauthorized", "a valid API key is required: Authorization: Bearer <key>")
    static func forbidden(_ detail: String) -> APIError { APIError(.forbidden, "forbidden", detail) }

    /// Maps a domain error to its HTTP answer.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as StoreError:
            switch error.code {
            case .notFound, .partnerNotFound, .siteNotFound, .quoteNotFound, .proposalNotFound: return APIError(.notFound, error.code.rawValue, error.reason)
            case .conflict: return APIError(.conflict, error.code.rawValue, error.reason)
            case .idempotencyMismatch: return APIError(.unprocessableContent, error.code.rawValue, error.reason)
            case .invalid, .dealerUnknown, .notRevoked, .refundNotReinstatable, .beforeRegistration, .successorInvalid, .effectiveAtInvalid, .featureDropped: return APIError(.unprocessableContent, error.code.rawValue, error.reason)
            case .transferRecorded, .periodOpen, .objectionDecided, .subscriptionEnded, .siteClosed, .partnerLeft, .datesOverlap, .campaignOverlap, .featureRetired, 
                 .quoteAccepted, .quoteExpired, .quoteCancelled, .proposalDecided, .proposalExpired: return APIError(.conflict, error.code.rawValue, error.reason)
            case .proposalOwn: return APIError(.forbidden, error.code.rawValue, error.reason)
            case .busy: return APIError(.serviceUnavailable, error.code.rawValue, "the database is busy; retry in a moment")
            default: return APIError(.serviceUnavailable, error.code.rawValue, "the database is unavailable")
            }
        case let error as CryptoError where error.code == .pkcs11TokenUnavailable:
            // The signing key's token is away: the next request reaches for it again.
            return APIError(.serviceUnavailable, error.code.rawValue, "the signing key's token cannot sign now; retry in a moment")
        case let error as any CodedError where APIError.isClientCaused(error):
            // A domain value or rule the request broke (entitlements, revenue, invoicing).
            return APIError(.unprocessableContent, error.codeName, error.reason)
        default:
            // The server's own fault (OpenSSL, signing, a spill file, a document fod made that
            // does not check): 500, with no internals; the log has them with the request id.
            return APIError(.internalServerError, "internal", "an unexpected error occurred")
        }
    }

    /// The domain codes a request can cause, answered 422 with their reason; every other code is
    /// a fault of the server (answered 500 `internal`, counted as 5xx, logged with its reason).
    static func isClientCaused(_ error: any CodedError) -> Bool {
        switch error {
        case let error as EntitlementError: return !entitlementServerCodes.contains(error.code)
        case is CoreError: return true
        case let error as CryptoError: return [.base64Malformed, .signatureMalformed, .jwkMalformed].contains(error.code)
        case let error as RevenueError:
            return [.fieldInvalid, .amountInvalid, .vatInvalid, .currencyUnknown, .currencyMismatch, .timestampInvalid, .optionInvalid, .rulesInvalid].contains(error.code)
        case let error as InvoicingError: return [.partyInvalid, .ibanInvalid, .vatIDInvalid, .masterDataIncomplete].contains(error.code)
        default: return false
        }
    }

    /// Entitlement codes that only the server's own keys, trust folder or signer produce.
    private static let entitlementServerCodes: Set<ErrorCode<EntitlementError>> = [
        .signingFailed, .keySetInvalid, .keySetKidDuplicate, .rootMalformed, .rootRollback, .rootVersionSkipped, .rootThreshold, .rootExpired,
    ]
}
