import FoDCore
import FoDCrypto

/// The one error type of `FoDStore`.
public struct StoreError: CodedError {
    /// This module's codes (listed in the extension of ``ErrorCode`` below).
    public typealias Code = ErrorCode<StoreError>

    /// The stable code.
    public let code: Code
    /// What happened; never contains secrets.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == StoreError {
    /// The database could not be opened, migrated, read or written.
    public static let database = ErrorCode("store_database")
    /// The database stayed locked by another writer longer than the busy timeout.
    public static let busy = ErrorCode("store_busy")
    /// No such record.
    public static let notFound = ErrorCode("not_found")
    /// A record with this key exists.
    public static let conflict = ErrorCode("conflict")
    /// The same idempotency key was used with a different request.
    public static let idempotencyMismatch = ErrorCode("idempotency_key_reused")
    /// The audit chain is broken at a row (changed, inserted or deleted).
    public static let auditBroken = ErrorCode("audit_chain_broken")
    /// Input to the store is invalid (a fixture file, a role).
    public static let invalid = ErrorCode("invalid")
    /// A record names a dealer that is not in the master data.
    public static let dealerUnknown = ErrorCode("dealer_unknown")
    /// A reinstatement of an entitlement that is not revoked.
    public static let notRevoked = ErrorCode("not_revoked")
    /// A reinstatement of a refund or withdrawal (it has a refund event: book a new sale).
    public static let refundNotReinstatable = ErrorCode("refund_not_reinstatable")
    /// A change of owner at a moment already recorded.
    public static let transferRecorded = ErrorCode("transfer_recorded")
    /// A period cannot be closed yet: it has not ended, or the one before it is open.
    public static let periodOpen = ErrorCode("period_not_closable")
    /// An objection was decided already.
    public static let objectionDecided = ErrorCode("objection_decided")
    /// A change of owner dated before the vehicle was registered.
    public static let beforeRegistration = ErrorCode("effective_at_before_registration")
    /// A subscription to cancel has ended already: withdrawn, refunded or revoked, or its last period is over.
    public static let subscriptionEnded = ErrorCode("subscription_ended")
    /// No partner with this id.
    public static let partnerNotFound = ErrorCode("partner_not_found")
    /// No site with this id.
    public static let siteNotFound = ErrorCode("site_not_found")
    /// The site is closed (or closes) at the moment the change needs it open.
    public static let siteClosed = ErrorCode("site_closed")
    /// The partner has left (or leaves) at the moment the change needs it.
    public static let partnerLeft = ErrorCode("partner_left")
    /// A dated record would overlap one already recorded (a version at the same or a later
    /// date, a salesperson's two periods).
    public static let datesOverlap = ErrorCode("dates_overlap")
    /// A closing site's successor is itself, in another market, not open then, or closing.
    public static let successorInvalid = ErrorCode("successor_invalid")
    /// A campaign's window overlaps another's for the same feature, market and term.
    public static let campaignOverlap = ErrorCode("campaign_overlap")
    /// The feature is retired (again, or a sale after its retirement).
    public static let featureRetired = ErrorCode("feature_retired")
    /// A catalog version leaves out a feature of the version before it (a feature leaves by retirement).
    public static let featureDropped = ErrorCode("feature_dropped")
    /// An effective date in the past (master data is never changed backwards), or an end before its start.
    public static let effectiveAtInvalid = ErrorCode("effective_at_invalid")
    /// No quote with this id (or code), or none the caller may see.
    public static let quoteNotFound = ErrorCode("quote_not_found")
    /// The quote was accepted already (by another acceptance).
    public static let quoteAccepted = ErrorCode("quote_accepted")
    /// The quote's validity has run out.
    public static let quoteExpired = ErrorCode("quote_expired")
    /// The quote was cancelled.
    public static let quoteCancelled = ErrorCode("quote_cancelled")
    /// No proposal has this id.
    public static let proposalNotFound = ErrorCode("proposal_not_found")
    /// The proposal was approved or rejected already.
    public static let proposalDecided = ErrorCode("proposal_decided")
    /// The proposal waited past its end.
    public static let proposalExpired = ErrorCode("proposal_expired")
    /// The proposer tried to decide their own proposal (four eyes).
    public static let proposalOwn = ErrorCode("proposal_own")
}
