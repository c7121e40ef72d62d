import FoDCore
import FoDEntitlements
import FoDInvoicing
import Foundation

/// The id of a partner (the legal entity an agent is): `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, as a
/// dealer's. Partners that came from a dealer of before the network have that dealer's id.
public struct PartnerID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let value: String

    /// - Throws: ``StoreError`` `invalid`.
    public init(_ value: String) throws {
        guard (try? DealerID(value)) != nil else {
            throw StoreError(.invalid, "partner id \"\(value.prefix(70))\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        }
        self.value = value
    }

    public var description: String { value }
    public static func < (lhs: PartnerID, rhs: PartnerID) -> Bool { lhs.value < rhs.value }
    public init(from decoder: any Decoder) throws { try self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(value) }
}

/// A salesperson's pseudonymous id (the partner chooses it; no personal data is needed):
/// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
public struct SalespersonID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: String

    /// - Throws: ``StoreError`` `invalid`.
    public init(_ value: String) throws {
        guard (try? DealerID(value)) != nil else {
            throw StoreError(.invalid, "salesperson id \"\(value.prefix(70))\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        }
        self.value = value
    }

    public var description: String { value }
    public static func < (lhs: SalespersonID, rhs: SalespersonID) -> Bool { lhs.value < rhs.value }
}

/// What a partner version says: the trading name, the market, the legal data its credit notes
/// carry and, for a sub-agent, its main partner (who is paid for its sales).
public struct PartnerDetails: Sendable, Hashable, Codable {
    public var name: String
    public var market: String
    /// `nil` only for a partner that came from a dealer without party data (its month cannot be
    /// closed with a payable amount until a version gives it).
    public var party: LegalParty?
    public var mainPartner: PartnerID?

    public init(name: String, market: String, party: LegalParty?, mainPartner: PartnerID?) {
        self.name = name
        self.market = market
        self.party = party
        self.mainPartner = mainPartner
    }

    enum CodingKeys: String, CodingKey { case name, market, party, mainPartner = "main_partner" }

    /// The stored document.
    public var json: String { (try? String(decoding: JSONEncoder.sorted.encode(self), as: UTF8.self)) ?? "{}" }

    /// - Throws: ``StoreError`` `store_database` when the stored document is damaged.
    static func stored(_ json: String) throws -> PartnerDetails {
        do { return try JSONDecoder().decode(PartnerDetails.self, from: Data(json.utf8)) } catch {
            throw StoreError(.database, "a stored partner version is damaged")
        }
    }
}

/// One effective-dated version of a partner: in force from ``validFrom`` until the next one.
public struct PartnerVersion: Sendable, Hashable {
    /// From when it is in force (Unix seconds).
    public let validFrom: Int64
    /// When it was recorded, and by whom.
    public let recordedAt: Int64
    public let actor: String
    public let details: PartnerDetails

    public init(validFrom: Int64, recordedAt: Int64, actor: String, details: PartnerDetails) {
        self.validFrom = validFrom
        self.recordedAt = recordedAt
        self.actor = actor
        self.details = details
    }
}

/// A partner: the legal entity that sells as the OEM's agent and is paid the commission.
public struct Partner: Sendable, Hashable {
    public let id: PartnerID
    public let joinedAt: Int64
    /// The end date (no sales from it on); `nil`: not ended.
    public let leftAt: Int64?
    /// Oldest first; never empty.
    public let versions: [PartnerVersion]

    public init(id: PartnerID, joinedAt: Int64, leftAt: Int64?, versions: [PartnerVersion]) {
        self.id = id
        self.joinedAt = joinedAt
        self.leftAt = leftAt
        self.versions = versions
    }

    /// The version in force at `instant` (before the first: the first, so that a partner always
    /// has a name).
    public func version(at instant: Int64) -> PartnerVersion {
        versions.last { $0.validFrom <= instant } ?? versions[0]
    }

    /// Whether it is a partner at `instant` (joined, not left).
    public func isActive(at instant: Int64) -> Bool { joinedAt <= instant && (leftAt.map { instant < $0 } ?? true) }
}

/// A site (outlet): where sales are made and vehicles serviced; a row of the `dealer` table, so
/// its id is what `dealer_id` names everywhere.
public struct Site: Sendable, Hashable {
    public let id: DealerID
    public let partner: PartnerID
    public let name: String
    public let market: String
    public let address: PostalAddress?
    public let openedAt: Int64
    /// From when it is closed; `nil`: open.
    public let closedAt: Int64?
    /// Where its vehicles went when it closed.
    public let successor: DealerID?

    public init(id: DealerID, partner: PartnerID, name: String, market: String, address: PostalAddress?, openedAt: Int64, closedAt: Int64?,
                successor: DealerID?) {
        self.id = id
        self.partner = partner
        self.name = name
        self.market = market
        self.address = address
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.successor = successor
    }

    /// Whether it is open at `instant`.
    public func isOpen(at instant: Int64) -> Bool { openedAt <= instant && (closedAt.map { instant < $0 } ?? true) }
}

/// A salesperson at a site for a period.
public struct Salesperson: Sendable, Hashable {
    public let id: SalespersonID
    public let site: DealerID
    public let activeFrom: Int64
    /// The end (exclusive); `nil`: open-ended.
    public let activeTo: Int64?

    public init(id: SalespersonID, site: DealerID, activeFrom: Int64, activeTo: Int64?) {
        self.id = id
        self.site = site
        self.activeFrom = activeFrom
        self.activeTo = activeTo
    }

    /// Whether the salesperson is at the site at `instant`.
    public func isActive(at instant: Int64) -> Bool { activeFrom <= instant && (activeTo.map { instant < $0 } ?? true) }
}

/// The whole network as stored (partners with every version, sites, salespeople): small — a national network
/// is tens of partners and hundreds of sites — so read at once for a close or a listing.
public struct Network: Sendable {
    public let partners: [PartnerID: Partner]
    public let sites: [DealerID: Site]
    /// Each site's salespeople, every period, oldest first.
    public let salespeople: [DealerID: [Salesperson]]

    public init(partners: [PartnerID: Partner], sites: [DealerID: Site], salespeople: [DealerID: [Salesperson]] = [:]) {
        self.partners = partners
        self.sites = sites
        self.salespeople = salespeople
    }

    /// Who is paid for a statement keyed by `id` at `instant`: a site's partner — or, when that
    /// partner is a sub-agent at `instant`, its main partner; an id that is a partner's and no
    /// site's (an adjustment of a partner's credit note) is that partner.
    /// - Returns: the payee and the partner the site belongs to (the sub-agent, if any); `nil`
    ///   for an id that is neither.
    public func payee(of id: String, at instant: Int64) -> (payee: PartnerID, seller: PartnerID)? {
        let seller: PartnerID
        if let dealer = try? DealerID(id), let site = sites[dealer] {
            seller = site.partner
        } else if let partner = try? PartnerID(id), partners[partner] != nil {
            seller = partner
        } else {
            return nil
        }
        let main = partners[seller]?.version(at: instant).details.mainPartner
        return (main ?? seller, seller)
    }

    /// The sites of `partner`, by id.
    public func sites(of partner: PartnerID) -> [Site] { sites.values.filter { $0.partner == partner }.sorted { $0.id < $1.id } }
}
