import FoDCore
import FoDEntitlements
import FoDInvoicing

/// What a partner version says, as `POST /v1/partners` and `POST /v1/partners/{id}/versions` take
/// it: the legal entity with what its credit notes carry (`Partner` in `docs/openapi.yaml`).
public struct PartnerFields: Codable, Sendable, Hashable {
    public var name: String
    public var legalName: String
    public var address: PostalAddress
    @Nullable public var vatID: VATID?
    @Nullable public var taxNumber: String?
    public var payout: PayoutAccount
    public var invoiceContact: InvoiceContact
    @Nullable public var electronicAddress: EmailAddress?
    public var market: Market
    /// A sub-agent's main partner (who is paid for its sales).
    @Nullable public var mainPartner: String?

    public init(name: String, legalName: String, address: PostalAddress, vatID: VATID?, taxNumber: String?, payout: PayoutAccount,
                invoiceContact: InvoiceContact, electronicAddress: EmailAddress?, market: Market, mainPartner: String?) {
        self.name = name
        self.legalName = legalName
        self.address = address
        self.vatID = vatID
        self.taxNumber = taxNumber
        self.payout = payout
        self.invoiceContact = invoiceContact
        self.electronicAddress = electronicAddress
        self.market = market
        self.mainPartner = mainPartner
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, legalName = "legal_name", address, vatID = "vat_id", taxNumber = "tax_number", payout, invoiceContact = "invoice_contact"
        case electronicAddress = "electronic_address", market, mainPartner = "main_partner"
    }

    /// The member names.
    public static var members: [String] { CodingKeys.allCases.map(\.stringValue) }
}

/// `POST /v1/partners`: a new partner (`joined_at` RFC 3339; absent: now).
public struct PartnerRequest: StrictDecodable, Encodable, Sendable, Hashable {
    public var id: String
    public var fields: PartnerFields
    /// Unix seconds; `nil`: now.
    public var joinedAt: Int64?

    public static var members: Set<String> { Set(["id", "joined_at"] + PartnerFields.members) }

    public init(id: String, fields: PartnerFields, joinedAt: Int64? = nil) {
        self.id = id
        self.fields = fields
        self.joinedAt = joinedAt
    }

    private enum Keys: String, CodingKey { case id, joinedAt = "joined_at" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(String.self, forKey: .id)
        joinedAt = try c.decodeInstantIfPresent(forKey: .joinedAt)
        fields = try PartnerFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(joinedAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .joinedAt)
        try fields.encode(to: encoder)
    }
}

/// `POST /v1/partners/{id}/versions`: the partner's whole data as from `effective_at` (RFC 3339;
/// absent: now) — a version is complete, never a patch.
public struct PartnerVersionRequest: StrictDecodable, Encodable, Sendable, Hashable {
    public var fields: PartnerFields
    public var effectiveAt: Int64?

    public static var members: Set<String> { Set(["effective_at"] + PartnerFields.members) }

    public init(fields: PartnerFields, effectiveAt: Int64? = nil) {
        self.fields = fields
        self.effectiveAt = effectiveAt
    }

    private enum Keys: String, CodingKey { case effectiveAt = "effective_at" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        effectiveAt = try c.decodeInstantIfPresent(forKey: .effectiveAt)
        fields = try PartnerFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(effectiveAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .effectiveAt)
        try fields.encode(to: encoder)
    }
}

/// `POST /v1/partners/{id}/end`, `POST /v1/sites/{id}/salespeople/{salesperson}/end`: from when (RFC 3339; absent: now).
public struct EndRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case effectiveAt = "effective_at" }
    public typealias CodingKeys = Keys
    public var effectiveAt: Int64?

    public init(effectiveAt: Int64? = nil) { self.effectiveAt = effectiveAt }

    public init(from decoder: any Decoder) throws {
        effectiveAt = try decoder.container(keyedBy: Keys.self).decodeInstantIfPresent(forKey: .effectiveAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(effectiveAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .effectiveAt)
    }
}

/// `POST /v1/partners/{id}/sites`: a site (`market` absent: the partner's; `opened_at` absent: now).
public struct SiteRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case id, name, address, market, openedAt = "opened_at" }
    public typealias CodingKeys = Keys
    public var id: DealerID
    public var name: String
    public var address: PostalAddress?
    public var market: Market?
    public var openedAt: Int64?

    public init(id: DealerID, name: String, address: PostalAddress?, market: Market?, openedAt: Int64? = nil) {
        self.id = id
        self.name = name
        self.address = address
        self.market = market
        self.openedAt = openedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try DealerID(try c.decode(String.self, forKey: .id))
        name = try c.decode(String.self, forKey: .name)
        address = try c.decodeIfPresent(PostalAddress.self, forKey: .address)
        market = try c.decodeIfPresent(Market.self, forKey: .market)
        openedAt = try c.decodeInstantIfPresent(forKey: .openedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id.value, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(address, forKey: .address)
        try c.encodeIfPresent(market, forKey: .market)
        try c.encodeIfPresent(openedAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .openedAt)
    }
}

/// `POST /v1/sites/{id}/close`: from when, and the site that takes its vehicles over.
public struct SiteCloseRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case effectiveAt = "effective_at", successor }
    public typealias CodingKeys = Keys
    public var effectiveAt: Int64
    public var successor: DealerID

    public init(effectiveAt: Int64, successor: DealerID) {
        self.effectiveAt = effectiveAt
        self.successor = successor
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        guard let at = try c.decodeInstantIfPresent(forKey: .effectiveAt) else {
            throw EntitlementError(.fieldMissing, "effective_at is required")
        }
        effectiveAt = at
        successor = try DealerID(try c.decode(String.self, forKey: .successor))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(Instant(unixSeconds: effectiveAt).rfc3339, forKey: .effectiveAt)
        try c.encode(successor.value, forKey: .successor)
    }
}

/// `POST /v1/sites/{id}/salespeople`: a pseudonymous id, from `active_from` (absent: now) to `active_to` (absent: open).
public struct SalespersonRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case id, activeFrom = "active_from", activeTo = "active_to" }
    public typealias CodingKeys = Keys
    public var id: String
    public var activeFrom: Int64?
    public var activeTo: Int64?

    public init(id: String, activeFrom: Int64? = nil, activeTo: Int64? = nil) {
        self.id = id
        self.activeFrom = activeFrom
        self.activeTo = activeTo
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(String.self, forKey: .id)
        activeFrom = try c.decodeInstantIfPresent(forKey: .activeFrom)
        activeTo = try c.decodeInstantIfPresent(forKey: .activeTo)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(activeFrom.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .activeFrom)
        try c.encodeIfPresent(activeTo.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .activeTo)
    }
}

/// A partner version as answered (`PartnerVersion` in `docs/openapi.yaml`): what it says, from when,
/// recorded when. `legal_name` … `invoice_contact` are `null` only for a partner that came from a
/// dealer without party data.
public struct PartnerVersionBody: Codable, Sendable, Hashable {
    public var validFrom: String
    public var recordedAt: String
    public var name: String
    @Nullable public var legalName: String?
    @Nullable public var address: PostalAddress?
    @Nullable public var vatID: String?
    @Nullable public var taxNumber: String?
    @Nullable public var payout: PayoutAccount?
    @Nullable public var invoiceContact: InvoiceContact?
    @Nullable public var electronicAddress: String?
    public var market: String
    @Nullable public var mainPartner: String?

    public init(validFrom: String, recordedAt: String, name: String, legalName: String?, address: PostalAddress?, vatID: String?, taxNumber: String?,
                payout: PayoutAccount?, invoiceContact: InvoiceContact?, electronicAddress: String?, market: String, mainPartner: String?) {
        self.validFrom = validFrom
        self.recordedAt = recordedAt
        self.name = name
        self.legalName = legalName
        self.address = address
        self.vatID = vatID
        self.taxNumber = taxNumber
        self.payout = payout
        self.invoiceContact = invoiceContact
        self.electronicAddress = electronicAddress
        self.market = market
        self.mainPartner = mainPartner
    }

    enum CodingKeys: String, CodingKey {
        case validFrom = "valid_from", recordedAt = "recorded_at", name, legalName = "legal_name", address, vatID = "vat_id", taxNumber = "tax_number"
        case payout, invoiceContact = "invoice_contact", electronicAddress = "electronic_address", market, mainPartner = "main_partner"
    }
}

/// A salesperson's period at a site.
public struct SalespersonBody: Codable, Sendable, Hashable {
    public var id: String
    public var siteID: String
    public var activeFrom: String
    @Nullable public var activeTo: String?

    public init(id: String, siteID: String, activeFrom: String, activeTo: String?) {
        self.id = id
        self.siteID = siteID
        self.activeFrom = activeFrom
        self.activeTo = activeTo
    }

    enum CodingKeys: String, CodingKey { case id, siteID = "site_id", activeFrom = "active_from", activeTo = "active_to" }
}

/// A site (`Site` in `docs/openapi.yaml`).
public struct SiteBody: Codable, Sendable, Hashable {
    public var id: String
    public var partnerID: String
    public var name: String
    public var market: String
    @Nullable public var address: PostalAddress?
    public var openedAt: String
    @Nullable public var closedAt: String?
    @Nullable public var successor: String?
    public var salespeople: [SalespersonBody]

    public init(id: String, partnerID: String, name: String, market: String, address: PostalAddress?, openedAt: String, closedAt: String?,
                successor: String?, salespeople: [SalespersonBody]) {
        self.id = id
        self.partnerID = partnerID
        self.name = name
        self.market = market
        self.address = address
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.successor = successor
        self.salespeople = salespeople
    }

    enum CodingKeys: String, CodingKey {
        case id, partnerID = "partner_id", name, market, address, openedAt = "opened_at", closedAt = "closed_at", successor, salespeople
    }
}

/// A partner as answered (`PartnerView` in `docs/openapi.yaml`): the version in force at the
/// moment asked (`?at=`, default now) flattened, every version (scheduled ones too), its sites.
public struct PartnerBody: Codable, Sendable, Hashable {
    public var id: String
    public var joinedAt: String
    @Nullable public var leftAt: String?
    /// The version in force at the moment asked.
    public var inForce: PartnerVersionBody
    /// Every version, oldest first; those after the moment asked are scheduled.
    public var versions: [PartnerVersionBody]
    public var sites: [SiteBody]

    public init(id: String, joinedAt: String, leftAt: String?, inForce: PartnerVersionBody, versions: [PartnerVersionBody], sites: [SiteBody]) {
        self.id = id
        self.joinedAt = joinedAt
        self.leftAt = leftAt
        self.inForce = inForce
        self.versions = versions
        self.sites = sites
    }

    enum CodingKeys: String, CodingKey { case id, joinedAt = "joined_at", leftAt = "left_at", inForce = "in_force", versions, sites }
}

/// `GET /v1/partners`.
public struct PartnerList: Codable, Sendable, Hashable {
    public var partners: [PartnerBody]
    public init(partners: [PartnerBody]) { self.partners = partners }
}

/// `POST /v1/sites/{id}/close`: the closed site and how many vehicles moved to the successor.
public struct SiteClosedBody: Codable, Sendable, Hashable {
    public var site: SiteBody
    public var vehiclesMoved: Int

    public init(site: SiteBody, vehiclesMoved: Int) {
        self.site = site
        self.vehiclesMoved = vehiclesMoved
    }

    enum CodingKeys: String, CodingKey { case site, vehiclesMoved = "vehicles_moved" }
}
