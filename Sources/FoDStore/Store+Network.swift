import FoDCore
import FoDEntitlements
import FoDInvoicing
import Foundation

/// The network's master data: partners with effective-dated versions, their sites, salespeople
/// (docs/network.md). Nothing is deleted: partners leave, sites close, salespeople end — by date.
public protocol NetworkStore: Sendable {
    /// Adds a partner, its first version in force from `joinedAt`.
    /// - Throws: ``StoreError`` `conflict` (the id is taken), `partner_not_found` / `invalid` (its main partner).
    func createPartner(_ id: PartnerID, _ details: PartnerDetails, joinedAt: Int64, actor: String, at now: Int64) async throws -> Partner
    /// Records a new version in force from `effectiveAt` (now or later; after every recorded version).
    /// - Throws: ``StoreError`` `partner_not_found`, `effective_at_invalid`, `dates_overlap`, `partner_left`, `invalid`.
    func changePartner(_ id: PartnerID, _ details: PartnerDetails, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Partner
    /// Ends the partnership at `effectiveAt`: every site must be closed by then.
    /// - Throws: ``StoreError`` `partner_not_found`, `partner_left`, `effective_at_invalid`, `conflict` (an open site, a sub-agent under it).
    func endPartner(_ id: PartnerID, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Partner
    /// The partner with every version, or `nil`.
    func partner(_ id: PartnerID) async throws -> Partner?
    /// Every partner and site.
    func network() async throws -> Network
    /// Opens a site of a partner.
    /// - Throws: ``StoreError`` `conflict`, `partner_not_found`, `partner_left`.
    func openSite(_ site: Site, actor: String, at now: Int64) async throws -> Site
    /// Closes a site from `effectiveAt`, moving every vehicle it services then to `successor` (one
    /// dated assignment each, in the same transaction) and ending its salespeople there.
    /// - Returns: the closed site and how many vehicles moved.
    /// - Throws: ``StoreError`` `site_not_found`, `site_closed`, `effective_at_invalid`, `successor_invalid`.
    func closeSite(_ id: DealerID, effectiveAt: Int64, successor: DealerID, actor: String, at now: Int64) async throws -> (site: Site, moved: Int)
    /// The site, or `nil`.
    func site(_ id: DealerID) async throws -> Site?
    /// Adds a salesperson at a site for a period.
    /// - Throws: ``StoreError`` `site_not_found`, `site_closed`, `effective_at_invalid`, `dates_overlap`.
    func addSalesperson(_ salesperson: Salesperson, actor: String, at now: Int64) async throws -> Salesperson
    /// Ends a salesperson's current period at its site at `effectiveAt`.
    /// - Throws: ``StoreError`` `not_found`, `effective_at_invalid`.
    func endSalesperson(_ id: SalespersonID, site: DealerID, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Salesperson
    /// A site's salespeople, every period, oldest first.
    func salespeople(at site: DealerID) async throws -> [Salesperson]
    /// The partner's own sales (its sites', as recorded at the sale) in `[from, to)`, oldest first,
    /// with the salesperson who sold each: the export for the partner's staff incentive.
    func sales(of partner: PartnerID, from: Int64, to: Int64) async throws -> [PartnerSale]
}

/// One sale in a partner's sales export.
public struct PartnerSale: Sendable, Hashable {
    public let eventID: String
    public let occurredAt: Int64
    public let site: String
    public let salesperson: String?
    public let vin: String
    public let feature: String
    public let term: String
    public let channel: String
    public let currency: String
    public let grossMinor: Int64
    /// When it was refunded or withdrawn, if it was.
    public let refundedAt: Int64?
    /// Why it was credited to its site (`nil`: recorded before attribution was), and the quote it came from.
    public var attribution: String? = nil
    public var quote: String? = nil
}

extension SQLStore {
    public func createPartner(_ id: PartnerID, _ details: PartnerDetails, joinedAt: Int64, actor: String, at now: Int64) async throws -> Partner {
        try await write("partner create") { db in
            if try Self.partner(db, id) != nil { throw StoreError(.conflict, "partner \(id) exists") }
            if let site = try Self.site(db, try DealerID(id.value)) {
                throw StoreError(.conflict, "\(id) is the id of a site of partner \(site.partner): a partner's id is its own")
            }
            try Self.checkMainPartner(details, of: id, at: joinedAt, db)
            try db.execute(sql: "INSERT INTO partner (id, joined_at, created_at) VALUES (?, ?, ?)", arguments: [id.value, joinedAt, now])
            try Self.insertVersion(id, details, validFrom: joinedAt, actor: actor, at: now, db)
            try db.appendAudit(at: now, actor: actor, action: "partner.create", subject: id.value,
                               details: "name=\(details.name) market=\(details.market) joined=\(Instant(unixSeconds: joinedAt).rfc3339)\(details.mainPartner.map { " main_partner=\($0)" } ?? "")")
            return try Self.requirePartner(db, id)
        }
    }

    public func changePartner(_ id: PartnerID, _ details: PartnerDetails, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Partner {
        try await write("partner change") { db in
            let partner = try Self.requirePartner(db, id)
            guard effectiveAt >= now else {
                throw StoreError(.effectiveAtInvalid, "effective_at is in the past: master data changes from now or a later date, never backwards")
            }
            if let last = partner.versions.last, effectiveAt <= last.validFrom {
                throw StoreError(.datesOverlap, "partner \(id) has a version from \(Instant(unixSeconds: last.validFrom).rfc3339): a change takes effect after it")
            }
            if let left = partner.leftAt, effectiveAt >= left { throw StoreError(.partnerLeft, "partner \(id) leaves on \(Instant(unixSeconds: left).rfc3339)") }
            try Self.checkMainPartner(details, of: id, at: effectiveAt, db)
            try Self.insertVersion(id, details, validFrom: effectiveAt, actor: actor, at: now, db)
            try db.appendAudit(at: now, actor: actor, action: "partner.change", subject: id.value,
                               details: "from=\(Instant(unixSeconds: effectiveAt).rfc3339) \(Self.changes(partner.version(at: effectiveAt).details, details))")
            return try Self.requirePartner(db, id)
        }
    }

    public func endPartner(_ id: PartnerID, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Partner {
        try await write("partner end") { db in
            let partner = try Self.requirePartner(db, id)
            if let left = partner.leftAt { throw StoreError(.partnerLeft, "partner \(id) has left on \(Instant(unixSeconds: left).rfc3339)") }
            guard effectiveAt >= now, effectiveAt >= partner.joinedAt else {
                throw StoreError(.effectiveAtInvalid, "effective_at is in the past or before the partner joined")
            }
            let open = try String.fetchAll(db, sql: "SELECT id FROM dealer WHERE partner_id = ? AND (closed_at IS NULL OR closed_at > ?) ORDER BY id",
                                           arguments: [id.value, effectiveAt])
            guard open.isEmpty else {
                throw StoreError(.conflict, "partner \(id) still has open sites then (\(open.prefix(5).joined(separator: ", "))): close them first, each with its successor")
            }
            let network = try Self.network(db)
            let subAgents = network.partners.values.filter { $0.leftAt.map { $0 > effectiveAt } ?? true }
                .filter { $0.version(at: effectiveAt).details.mainPartner == id || $0.versions.contains { $0.validFrom > effectiveAt && $0.details.mainPartner == id } }
            guard subAgents.isEmpty else {
                throw StoreError(.conflict, "partner \(id) is the main partner of \(subAgents.map(\.id.value).sorted().prefix(5).joined(separator: ", ")) then")
            }
            try db.execute(sql: "UPDATE partner SET left_at = ? WHERE id = ?", arguments: [effectiveAt, id.value])
            try db.appendAudit(at: now, actor: actor, action: "partner.end", subject: id.value, details: "left=\(Instant(unixSeconds: effectiveAt).rfc3339)")
            return try Self.requirePartner(db, id)
        }
    }

    public func partner(_ id: PartnerID) async throws -> Partner? {
        try await read("partner read") { db in try Self.partner(db, id) }
    }

    public func network() async throws -> Network {
        try await read("network read") { db in try Self.network(db) }
    }

    public func openSite(_ site: Site, actor: String, at now: Int64) async throws -> Site {
        try await write("site open") { db in
            let partner = try Self.requirePartner(db, site.partner)
            if try Self.site(db, site.id) != nil { throw StoreError(.conflict, "site \(site.id) exists") }
            if case let other = try PartnerID(site.id.value), other != site.partner, try Self.partner(db, other) != nil {
                throw StoreError(.conflict, "\(site.id) is the id of partner \(other): a site's id is its own")
            }
            if let left = partner.leftAt, site.openedAt >= left {
                throw StoreError(.partnerLeft, "partner \(partner.id) leaves on \(Instant(unixSeconds: left).rfc3339)")
            }
            try db.execute(sql: "INSERT INTO dealer (id, name, market, partner_id, address, opened_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [site.id.value, site.name, site.market, site.partner.value, Self.addressJSON(site.address), site.openedAt])
            try db.appendAudit(at: now, actor: actor, action: "site.open", subject: site.id.value,
                               details: "partner=\(site.partner) name=\(site.name) market=\(site.market) opened=\(Instant(unixSeconds: site.openedAt).rfc3339)")
            return try Self.requireSite(db, site.id)
        }
    }

    public func closeSite(_ id: DealerID, effectiveAt: Int64, successor: DealerID, actor: String, at now: Int64) async throws -> (site: Site, moved: Int) {
        try await transaction(.bulk, "site close") { db in
            let site = try Self.requireSite(db, id)
            if let closed = site.closedAt { throw StoreError(.siteClosed, "site \(id) closes on \(Instant(unixSeconds: closed).rfc3339) already") }
            guard effectiveAt >= now, effectiveAt >= site.openedAt else {
                throw StoreError(.effectiveAtInvalid, "effective_at is in the past or before the site opened: a site closes from now or a later date")
            }
            guard successor != id else { throw StoreError(.successorInvalid, "a site cannot be its own successor") }
            guard let next = try Self.site(db, successor) else { throw StoreError(.successorInvalid, "the successor \(successor) is not a site") }
            guard next.market == site.market else {
                throw StoreError(.successorInvalid, "the successor \(successor) is in market \(next.market), the closing site in \(site.market)")
            }
            guard next.openedAt <= effectiveAt, next.closedAt == nil else {
                throw StoreError(.successorInvalid, "the successor \(successor) is not open from \(Instant(unixSeconds: effectiveAt).rfc3339) on (it is closed, closing or not yet open)")
            }
            // Every vehicle the site services at the date: its last assignment then names the site, or it has none then and was registered with it.
            let moved = try db.execute(sql: """
                INSERT INTO vehicle_dealer (vin, valid_from, dealer_id, recorded_at)
                SELECT g.vin, ?1, ?2, ?3 FROM vehicle_dealer g
                WHERE g.dealer_id = ?4 AND g.valid_from <= ?1
                  AND NOT EXISTS (SELECT 1 FROM vehicle_dealer h WHERE h.vin = g.vin AND h.valid_from > g.valid_from AND h.valid_from <= ?1)
                UNION ALL
                SELECT v.vin, ?1, ?2, ?3 FROM vehicle v
                WHERE v.dealer_id = ?4 AND NOT EXISTS (SELECT 1 FROM vehicle_dealer h WHERE h.vin = v.vin AND h.valid_from <= ?1)
                ON CONFLICT (vin, valid_from) DO UPDATE SET dealer_id = excluded.dealer_id, recorded_at = excluded.recorded_at
                """, arguments: [effectiveAt, successor.value, now, id.value])
            // Assignments to the site scheduled after the date go to the successor too (they are not the past).
            let scheduled = try db.execute(sql: "UPDATE vehicle_dealer SET dealer_id = ?, recorded_at = ? WHERE dealer_id = ? AND valid_from > ?",
                                           arguments: [successor.value, now, id.value, effectiveAt])
            try db.execute(sql: "UPDATE salesperson SET active_to = ? WHERE site_id = ? AND (active_to IS NULL OR active_to > ?) AND active_from < ?",
                           arguments: [effectiveAt, id.value, effectiveAt, effectiveAt])
            try db.execute(sql: "UPDATE dealer SET closed_at = ?, successor = ? WHERE id = ?", arguments: [effectiveAt, successor.value, id.value])
            try db.appendAudit(at: now, actor: actor, action: "site.close", subject: id.value,
                               details: "from=\(Instant(unixSeconds: effectiveAt).rfc3339) successor=\(successor) vehicles=\(moved + scheduled)")
            return (try Self.requireSite(db, id), moved + scheduled)
        }
    }

    public func site(_ id: DealerID) async throws -> Site? {
        try await fetch("site read", sql: "SELECT * FROM dealer WHERE id = ?", arguments: [id.value]).first.map(Self.site)
    }

    public func addSalesperson(_ salesperson: Salesperson, actor: String, at now: Int64) async throws -> Salesperson {
        try await write("salesperson add") { db in
            let site = try Self.requireSite(db, salesperson.site)
            if let to = salesperson.activeTo, to <= salesperson.activeFrom {
                throw StoreError(.effectiveAtInvalid, "active_to must be after active_from")
            }
            if let closed = site.closedAt, salesperson.activeTo.map({ $0 > closed }) ?? true {
                throw StoreError(.siteClosed, "site \(site.id) closes on \(Instant(unixSeconds: closed).rfc3339): a salesperson's period there must end by then")
            }
            guard salesperson.activeFrom >= site.openedAt else { throw StoreError(.effectiveAtInvalid, "site \(site.id) opens only on \(Instant(unixSeconds: site.openedAt).rfc3339)") }
            for other in try Self.salespeople(db, "id = ?", [salesperson.id.value])
            where other.activeFrom < (salesperson.activeTo ?? Int64.max) && salesperson.activeFrom < (other.activeTo ?? Int64.max) {
                throw StoreError(.datesOverlap, "salesperson \(salesperson.id) is at site \(other.site) from \(Instant(unixSeconds: other.activeFrom).rfc3339)\(other.activeTo.map { " to \(Instant(unixSeconds: $0).rfc3339)" } ?? ""): the periods overlap")
            }
            try db.execute(sql: "INSERT INTO salesperson (id, site_id, active_from, active_to, recorded_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [salesperson.id.value, site.id.value, salesperson.activeFrom, salesperson.activeTo, now])
            try db.appendAudit(at: now, actor: actor, action: "salesperson.add", subject: salesperson.id.value,
                               details: "site=\(site.id) from=\(Instant(unixSeconds: salesperson.activeFrom).rfc3339)\(salesperson.activeTo.map { " to=\(Instant(unixSeconds: $0).rfc3339)" } ?? "")")
            return salesperson
        }
    }

    public func endSalesperson(_ id: SalespersonID, site: DealerID, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Salesperson {
        try await write("salesperson end") { db in
            guard let current = try Self.salespeople(db, "id = ? AND site_id = ? AND (active_to IS NULL OR active_to > ?)", [id.value, site.value, now]).last else {
                throw StoreError(.notFound, "salesperson \(id) has no current or future period at site \(site)")
            }
            guard effectiveAt >= now, effectiveAt > current.activeFrom, current.activeTo.map({ effectiveAt <= $0 }) ?? true else {
                throw StoreError(.effectiveAtInvalid, "effective_at must be now or later, after the period's start and not after its end")
            }
            try db.execute(sql: "UPDATE salesperson SET active_to = ? WHERE id = ? AND active_from = ?", arguments: [effectiveAt, id.value, current.activeFrom])
            try db.appendAudit(at: now, actor: actor, action: "salesperson.end", subject: id.value,
                               details: "site=\(site) to=\(Instant(unixSeconds: effectiveAt).rfc3339)")
            return Salesperson(id: id, site: site, activeFrom: current.activeFrom, activeTo: effectiveAt)
        }
    }

    public func salespeople(at site: DealerID) async throws -> [Salesperson] {
        try await read("salespeople read") { db in try Self.salespeople(db, "site_id = ?", [site.value]) }
    }

    public func sales(of partner: PartnerID, from: Int64, to: Int64) async throws -> [PartnerSale] {
        // A sale of before the network has no partner recorded: its site's partner then was the dealer of the same id.
        try await fetch("partner sales", sql: """
            SELECT e.event_id, e.occurred_at, e.dealer_id, e.salesperson_id, e.vin, e.feature, e.term, e.channel, e.currency, e.gross_minor,
              e.attribution, e.quote_id, (SELECT r.occurred_at FROM event r WHERE r.kind = 'refund' AND r.refers_to = e.event_id) AS refunded_at
            FROM event e
            WHERE e.kind = 'activation' AND e.occurred_at >= ?1 AND e.occurred_at < ?2
              AND (e.partner_id = ?3 OR (e.partner_id IS NULL AND e.dealer_id = ?3))
            ORDER BY e.occurred_at, e.event_id
            """, arguments: [from, to, partner.value]).map { row in
            PartnerSale(eventID: row["event_id"], occurredAt: row["occurred_at"], site: row["dealer_id"], salesperson: row["salesperson_id"], vin: row["vin"],
                        feature: row["feature"], term: row["term"], channel: row["channel"], currency: row["currency"], grossMinor: row["gross_minor"],
                        refundedAt: row["refunded_at"], attribution: row["attribution"], quote: row["quote_id"])
        }
    }
}

extension SQLStore {
    static func partner(_ db: any SQLConnection, _ id: PartnerID) throws -> Partner? {
        guard let row = try SQLRow.fetchOne(db, sql: "SELECT joined_at, left_at FROM partner WHERE id = ?", arguments: [id.value]) else { return nil }
        let versions = try SQLRow.fetchAll(db, sql: "SELECT valid_from, recorded_at, actor, document FROM partner_version WHERE partner_id = ? ORDER BY valid_from",
                                           arguments: [id.value]).map(version)
        guard !versions.isEmpty else { throw StoreError(.database, "partner \(id) has no version") }
        return Partner(id: id, joinedAt: row["joined_at"], leftAt: row["left_at"], versions: versions)
    }

    static func requirePartner(_ db: any SQLConnection, _ id: PartnerID) throws -> Partner {
        guard let partner = try partner(db, id) else { throw StoreError(.partnerNotFound, "no partner \(id)") }
        return partner
    }

    static func version(_ row: SQLRow) throws -> PartnerVersion {
        PartnerVersion(validFrom: row["valid_from"], recordedAt: row["recorded_at"], actor: row["actor"], details: try PartnerDetails.stored(row["document"]))
    }

    static func network(_ db: any SQLConnection) throws -> Network {
        var versions: [String: [PartnerVersion]] = [:]
        for row in try SQLRow.fetchAll(db, sql: "SELECT partner_id, valid_from, recorded_at, actor, document FROM partner_version ORDER BY partner_id, valid_from") {
            versions[row["partner_id"], default: []].append(try version(row))
        }
        var partners: [PartnerID: Partner] = [:]
        for row in try SQLRow.fetchAll(db, sql: "SELECT id, joined_at, left_at FROM partner") {
            let id = try stored { try PartnerID(row["id"] as String) }
            guard let list = versions[id.value], !list.isEmpty else { throw StoreError(.database, "partner \(id) has no version") }
            partners[id] = Partner(id: id, joinedAt: row["joined_at"], leftAt: row["left_at"], versions: list)
        }
        var sites: [DealerID: Site] = [:]
        for row in try SQLRow.fetchAll(db, sql: "SELECT * FROM dealer") {
            let site = try site(row)
            sites[site.id] = site
        }
        var salespeople: [DealerID: [Salesperson]] = [:]
        for person in try Self.salespeople(db, "1 = 1", []) { salespeople[person.site, default: []].append(person) }
        return Network(partners: partners, sites: sites, salespeople: salespeople)
    }

    static func site(_ db: any SQLConnection, _ id: DealerID) throws -> Site? {
        try SQLRow.fetchOne(db, sql: "SELECT * FROM dealer WHERE id = ?", arguments: [id.value]).map(site)
    }

    static func requireSite(_ db: any SQLConnection, _ id: DealerID) throws -> Site {
        guard let site = try site(db, id) else { throw StoreError(.siteNotFound, "no site \(id)") }
        return site
    }

    static func site(_ row: SQLRow) throws -> Site {
        let address: String? = row["address"]
        return try stored {
            let id = try DealerID(row["id"] as String)
            // A dealer row written before the network (and not migrated: a database being copied) is its own partner's.
            let partner = try PartnerID((row["partner_id"] as String?) ?? id.value)
            return Site(id: id, partner: partner, name: row["name"], market: row["market"],
                        address: try address.map { try JSONDecoder().decode(PostalAddress.self, from: Data($0.utf8)) },
                        openedAt: (row["opened_at"] as Int64?) ?? 0, closedAt: row["closed_at"], successor: try (row["successor"] as String?).map { try DealerID($0) })
        }
    }

    static func addressJSON(_ address: PostalAddress?) -> String? {
        address.flatMap { try? String(decoding: JSONEncoder.sorted.encode($0), as: UTF8.self) }
    }

    static func salespeople(_ db: any SQLConnection, _ condition: String, _ arguments: SQLArguments) throws -> [Salesperson] {
        try SQLRow.fetchAll(db, sql: "SELECT id, site_id, active_from, active_to FROM salesperson WHERE \(condition) ORDER BY active_from, id", arguments: arguments).map { row in
            try stored { Salesperson(id: try SalespersonID(row["id"] as String), site: try DealerID(row["site_id"] as String), activeFrom: row["active_from"], activeTo: row["active_to"]) }
        }
    }

    static func insertVersion(_ id: PartnerID, _ details: PartnerDetails, validFrom: Int64, actor: String, at now: Int64, _ db: any SQLConnection) throws {
        try db.execute(sql: "INSERT INTO partner_version (partner_id, valid_from, document, recorded_at, actor) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id.value, validFrom, details.json, now, actor])
    }

    /// A sub-agent's main partner: another partner, active then, not a sub-agent itself (one level).
    static func checkMainPartner(_ details: PartnerDetails, of id: PartnerID, at instant: Int64, _ db: any SQLConnection) throws {
        guard let main = details.mainPartner else { return }
        guard main != id else { throw StoreError(.invalid, "a partner cannot be its own main partner") }
        guard let partner = try partner(db, main) else { throw StoreError(.partnerNotFound, "no partner \(main) (main_partner)") }
        if let left = partner.leftAt, instant >= left { throw StoreError(.partnerLeft, "the main partner \(main) leaves on \(Instant(unixSeconds: left).rfc3339)") }
        guard partner.version(at: instant).details.mainPartner == nil else {
            throw StoreError(.invalid, "\(main) is a sub-agent itself: a sub-agent's main partner is a main partner")
        }
    }

    /// The members a change sets, for the audit entry (never more than names: the values are in the version).
    static func changes(_ old: PartnerDetails, _ new: PartnerDetails) -> String {
        var changed: [String] = []
        if old.name != new.name { changed.append("name") }
        if old.market != new.market { changed.append("market") }
        if old.mainPartner != new.mainPartner { changed.append("main_partner") }
        if old.party?.legalName != new.party?.legalName { changed.append("legal_name") }
        if old.party?.address != new.party?.address { changed.append("address") }
        if old.party?.vatID != new.party?.vatID { changed.append("vat_id") }
        if old.party?.taxNumber != new.party?.taxNumber { changed.append("tax_number") }
        if old.party?.payout != new.party?.payout { changed.append("payout") }
        if old.party?.invoiceContact != new.party?.invoiceContact { changed.append("invoice_contact") }
        if old.party?.electronicAddress != new.party?.electronicAddress { changed.append("electronic_address") }
        return "changed=" + (changed.isEmpty ? "nothing" : changed.joined(separator: ","))
    }
}
