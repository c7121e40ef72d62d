import FoDEntitlements

/// `/healthz`, `/readyz`.
public struct HealthStatus: Codable, Sendable, Hashable {
    public var status: String
    public init(_ status: String) { self.status = status }
}

/// A dealer, by id and name.
public struct DealerRef: Codable, Sendable, Hashable {
    public var id: DealerID
    @Nullable public var name: String?

    public init(id: DealerID, name: String?) {
        self.id = id
        self.name = name
    }
}

/// `GET /v1/me`: who the key is.
public struct MeResponse: Codable, Sendable, Hashable {
    public var keyID: String
    /// `admin`, `issuer`, `dealer`, `auditor` or `network`.
    public var role: String
    /// A dealer key's site.
    @Nullable public var dealer: DealerRef?
    /// The partner that runs the site (the legal entity credited).
    @Nullable public var partner: PartnerRef?
    /// The salesperson a dealer key names.
    @Nullable public var salesperson: String?

    enum CodingKeys: String, CodingKey {
        case keyID = "key_id"
        case role, dealer, partner, salesperson
    }

    public init(keyID: String, role: String, dealer: DealerRef?, partner: PartnerRef? = nil, salesperson: String? = nil) {
        self.keyID = keyID
        self.role = role
        self.dealer = dealer
        self.partner = partner
        self.salesperson = salesperson
    }
}

/// A partner named in an answer: its id and its name in force now.
public struct PartnerRef: Codable, Sendable, Hashable {
    public var id: String
    @Nullable public var name: String?

    public init(id: String, name: String?) {
        self.id = id
        self.name = name
    }
}

/// One entry of the hash-chained audit log.
public struct AuditEntryBody: Codable, Sendable, Hashable {
    public var seq: Int64
    public var at: Int64
    public var actor: String
    public var action: String
    public var subject: String
    public var details: String
    public var sha256: String

    public init(seq: Int64, at: Int64, actor: String, action: String, subject: String, details: String, sha256: String) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.details = details
        self.sha256 = sha256
    }
}

/// `GET /v1/audit`: a page of entries and the cursor of the next (`null` on the last page).
public struct AuditPage: Codable, Sendable, Hashable {
    public var entries: [AuditEntryBody]
    @Nullable public var nextAfter: Int64?

    enum CodingKeys: String, CodingKey {
        case entries
        case nextAfter = "next_after"
    }

    public init(entries: [AuditEntryBody], nextAfter: Int64?) {
        self.entries = entries
        self.nextAfter = nextAfter
    }
}
