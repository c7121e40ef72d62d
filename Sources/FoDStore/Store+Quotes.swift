import FoDCore
import FoDEntitlements
import FoDRevenue

/// Quotes (docs/journeys.md): made at any touchpoint, opened by id or short code, accepted once
/// (with their sales, ``ActivationRecord/quote``), cancelled, or expired by the sweep.
public protocol QuoteStore: Sendable {
    /// Records a new quote with its audit entry (`quote.create`, an event).
    /// - Throws: ``StoreError`` `conflict` when its code is taken (make another code and try again).
    func createQuote(_ quote: StoredQuote, at now: Int64) async throws
    /// The quote with this id, or `nil`.
    func quote(id: String) async throws -> StoredQuote?
    /// The quote with this id, its vehicle as registered (`nil`: not) and the vehicle's
    /// entitlements, newest first, in one read: what an acceptance checks.
    func quoteWithVehicle(id: String) async throws -> QuoteRead?
    /// The quote with this code (as stored: upper case, no dashes), or `nil`.
    func quote(code: String) async throws -> StoredQuote?
    /// The vehicle's quotes that are open at `now`, oldest first.
    func openQuotes(of vin: VIN, at now: Int64) async throws -> [StoredQuote]
    /// The entitlements an accepted quote booked, in item order.
    func quoteBookings(_ id: String) async throws -> [QuoteBooking]
    /// Cancels an open quote (`quote.cancel`).
    /// - Throws: ``StoreError`` `quote_not_found`, `quote_accepted`, `quote_expired`, `quote_cancelled`.
    func cancelQuote(_ id: String, actor: String, at now: Int64) async throws -> StoredQuote
    /// Marks up to `limit` open quotes whose validity ran out by `now` as expired, each with its
    /// audit entry (`quote.expire`, an event); returns how many.
    func expireQuotes(at now: Int64, limit: Int) async throws -> Int
}

/// A quote with its vehicle and the vehicle's entitlements, read at one moment.
public struct QuoteRead: Sendable {
    public let quote: StoredQuote
    public let vehicle: Vehicle?
    public let entitlements: [StoredEntitlement]
}

/// One sale an accepted quote booked.
public struct QuoteBooking: Sendable, Hashable {
    public let entitlementID: EntitlementID
    public let feature: FeatureCode
    public let term: Term
    public let dealer: DealerID?
    public let attribution: Attribution?
    public let channel: String
    public let soldAt: Int64

    public init(entitlementID: EntitlementID, feature: FeatureCode, term: Term, dealer: DealerID?, attribution: Attribution?, channel: String, soldAt: Int64) {
        self.entitlementID = entitlementID
        self.feature = feature
        self.term = term
        self.dealer = dealer
        self.attribution = attribution
        self.channel = channel
        self.soldAt = soldAt
    }
}

extension SQLStore {
    public func createQuote(_ quote: StoredQuote, at now: Int64) async throws {
        try await write("quote create") { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM quote WHERE code = ?", arguments: [quote.code]) == nil else {
                throw StoreError(.conflict, "quote code taken")
            }
            try db.execute(sql: """
                INSERT INTO quote (id, code, vin, market, channel, dealer_id, salesperson_id, preferred_dealer, catalog_version, created_at, expires_at,
                  created_by, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')
                """, arguments: [quote.id, quote.code, quote.vin.value, quote.market.code, quote.channel, quote.dealer?.value, quote.salesperson?.value,
                                 quote.preferredDealer?.value, quote.catalogVersion, quote.createdAt, quote.expiresAt, quote.createdBy])
            var arguments = SQLArguments([])
            for (n, item) in quote.items.enumerated() {
                arguments += [quote.id, n + 1, item.feature.value, item.term.rawValue, item.extend, item.gross.currency.code, item.gross.minor,
                              item.vat.value, item.campaign]
            }
            try db.execute(sql: """
                INSERT INTO quote_item (quote_id, n, feature, term, extend, currency, gross_minor, vat_bps, campaign_id) VALUES \(SQLText.rows(quote.items.count, columns: 9))
                """, arguments: arguments)
            let items = quote.items.map { "\($0.feature)/\($0.term)\($0.extend ? "+extend" : "")=\($0.gross.minor)" }.joined(separator: ",")
            try db.appendAudit(at: now, actor: quote.createdBy, action: "quote.create", subject: quote.id,
                               details: "vin=\(quote.vin) channel=\(quote.channel) items=\(items) expires=\(Instant(unixSeconds: quote.expiresAt).rfc3339)"
                                   + (quote.preferredDealer.map { " preferred=\($0)" } ?? ""))
        }
    }

    public func quote(id: String) async throws -> StoredQuote? {
        try await read("quote read") { db in try Self.quotes(db, "id = ?", [id]).first }
    }

    public func quoteWithVehicle(id: String) async throws -> QuoteRead? {
        try await transaction(.snapshot, "quote read") { db in
            guard let quote = try Self.quotes(db, "id = ?", [id]).first else { return nil }
            guard let vehicle = try Self.vehicle(db, quote.vin) else { return QuoteRead(quote: quote, vehicle: nil, entitlements: []) }
            return QuoteRead(quote: quote, vehicle: vehicle, entitlements: try Self.entitlements(db, quote.vin))
        }
    }

    public func quote(code: String) async throws -> StoredQuote? {
        try await read("quote read") { db in try Self.quotes(db, "code = ?", [code]).first }
    }

    public func openQuotes(of vin: VIN, at now: Int64) async throws -> [StoredQuote] {
        try await read("quotes read") { db in try Self.quotes(db, "vin = ? AND status = 'open' AND expires_at > ?", [vin.value, now]) }
    }

    public func quoteBookings(_ id: String) async throws -> [QuoteBooking] {
        let rows = try await fetch("quote bookings", sql: """
            SELECT e.entitlement_id, e.feature, e.term, e.dealer_id, e.attribution, e.channel, e.occurred_at FROM event e
            JOIN quote_item i ON i.quote_id = e.quote_id AND i.feature = e.feature
            WHERE e.quote_id = ? AND e.kind = 'activation' ORDER BY i.n
            """, arguments: [id])
        var bookings: [QuoteBooking] = []
        for row in rows {
            let entitlement: String = row["entitlement_id"], feature: String = row["feature"], term: String = row["term"]
            let attribution: String? = row["attribution"]
            bookings.append(QuoteBooking(entitlementID: try EntitlementID(entitlement), feature: try FeatureCode(feature), term: try Term(validating: term),
                                         dealer: try Self.dealerID(row, "dealer_id"), attribution: attribution.flatMap(Attribution.init(rawValue:)),
                                         channel: row["channel"], soldAt: row["occurred_at"]))
        }
        return bookings
    }

    /// An optional site id column.
    static func dealerID(_ row: SQLRow, _ column: String) throws -> DealerID? {
        let value: String? = row[column]
        return try value.map { try DealerID($0) }
    }

    public func cancelQuote(_ id: String, actor: String, at now: Int64) async throws -> StoredQuote {
        try await write("quote cancel") { db in
            guard let quote = try Self.quotes(db, "id = ?", [id]).first else {
                throw StoreError(.quoteNotFound, "there is no quote \(id.prefix(40))")
            }
            if let refusal = StoredQuote.refusal(quote.status(at: now), id: id) { throw refusal }
            try db.execute(sql: "UPDATE quote SET status = 'cancelled', closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'", arguments: [now, actor, id])
            try db.appendAudit(at: now, actor: actor, action: "quote.cancel", subject: id, details: "vin=\(quote.vin)")
            return try Self.quotes(db, "id = ?", [id])[0]
        }
    }

    public func expireQuotes(at now: Int64, limit: Int) async throws -> Int {
        try await write("quotes expire") { db in
            let due = try SQLRow.fetchAll(db, sql: "SELECT id, vin, expires_at FROM quote WHERE status = 'open' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?",
                                          arguments: [now, limit])
            guard !due.isEmpty else { return 0 }
            try db.execute(sql: "UPDATE quote SET status = 'expired', closed_at = expires_at, closed_by = 'system' WHERE status = 'open' AND id IN (\(SQLText.list(due.count)))",
                           arguments: SQLArguments(due.map { $0["id"] as String }))
            for row in due {
                try db.appendAudit(at: now, actor: "system", action: "quote.expire", subject: row["id"],
                                   details: "vin=\(row["vin"] as String) expired=\(Instant(unixSeconds: row["expires_at"]).rfc3339)")
            }
            return due.count
        }
    }

    /// The status of each quote at `now`, read in the transaction that accepts them.
    static func quoteStates(_ ids: [String], _ db: any SQLConnection, at now: Int64) throws -> [String: StoredQuote.Status] {
        var states: [String: StoredQuote.Status] = [:]
        for chunk in Array(Set(ids)).chunks(of: 500) {
            for row in try SQLRow.fetchAll(db, sql: "SELECT id, status, expires_at FROM quote WHERE id IN (\(SQLText.list(chunk.count)))", arguments: SQLArguments(chunk)) {
                let stored = StoredQuote.Status(rawValue: row["status"]) ?? .cancelled
                states[row["id"]] = stored == .open && (row["expires_at"] as Int64) <= now ? .expired : stored
            }
        }
        return states
    }

    /// Marks an open quote accepted, with its audit entry (`quote.accept`): in the sales' transaction,
    /// whose quote states (``quoteStates(_:_:at:)``) were read under its write lock — so the quote is
    /// open, and no other transaction can accept it first. Sent without waiting for its answer
    /// (``SQLConnection/enqueue(sql:arguments:)``: on PostgreSQL a group's acceptances are not a
    /// round trip each while the group holds the write lock).
    static func acceptQuote(_ acceptance: QuoteAcceptance, actor: String, _ db: any SQLConnection, at now: Int64) throws {
        try db.enqueue(sql: "UPDATE quote SET status = 'accepted', closed_at = ?, closed_by = ?, credited_dealer = ?, attribution = ? WHERE id = ? AND status = 'open'",
                       arguments: [now, actor, acceptance.creditedDealer.value, acceptance.attribution.rawValue, acceptance.quoteID])
        try db.appendAudit(at: now, actor: actor, action: "quote.accept", subject: acceptance.quoteID,
                           details: "dealer=\(acceptance.creditedDealer) attribution=\(acceptance.attribution)")
    }

    /// The quotes `condition` selects, oldest first, with their items: two statements (a quote's
    /// row once, not once per item).
    static func quotes(_ db: any SQLConnection, _ condition: String, _ arguments: SQLArguments) throws -> [StoredQuote] {
        let heads = try SQLRow.fetchAll(db, sql: "SELECT * FROM quote WHERE \(condition) ORDER BY created_at, id", arguments: arguments)
        guard !heads.isEmpty else { return [] }
        var items: [String: [StoredQuote.Item]] = [:]
        for chunk in heads.map({ $0["id"] as String }).chunks(of: 500) {
            for row in try SQLRow.fetchAll(db, sql: """
                SELECT quote_id, feature, term, extend, currency, gross_minor, vat_bps, campaign_id FROM quote_item
                WHERE quote_id IN (\(SQLText.list(chunk.count))) ORDER BY quote_id, n
                """, arguments: SQLArguments(Array(chunk))) {
                items[row["quote_id"], default: []].append(try quoteItem(row))
            }
        }
        return try heads.map { try quote($0, items: items[$0["id"] as String] ?? []) }
    }

    private static func quoteItem(_ row: SQLRow) throws -> StoredQuote.Item {
        let feature: String = row["feature"], term: String = row["term"], currency: String = row["currency"]
        let gross: Int64 = row["gross_minor"], vat: Int64 = row["vat_bps"], extend: Bool = row["extend"]
        return StoredQuote.Item(feature: try FeatureCode(feature), term: try Term(validating: term), extend: extend,
                                gross: Money(minor: gross, try Currency(currency)), vat: try BasisPoints(vat), campaign: row["campaign_id"])
    }

    private static func quote(_ head: SQLRow, items: [StoredQuote.Item]) throws -> StoredQuote {
        let vin: String = head["vin"], market: String = head["market"], status: String = head["status"]
        let salesperson: String? = head["salesperson_id"], attribution: String? = head["attribution"]
        return StoredQuote(
            id: head["id"], code: head["code"], vin: try VIN(vin), market: try Market(market), channel: head["channel"],
            dealer: try dealerID(head, "dealer_id"), salesperson: try salesperson.map { try SalespersonID($0) },
            preferredDealer: try dealerID(head, "preferred_dealer"), catalogVersion: head["catalog_version"],
            createdAt: head["created_at"], expiresAt: head["expires_at"], createdBy: head["created_by"], items: items,
            storedStatus: StoredQuote.Status(rawValue: status) ?? .cancelled, closedAt: head["closed_at"], closedBy: head["closed_by"],
            creditedDealer: try dealerID(head, "credited_dealer"), attribution: attribution.flatMap(Attribution.init(rawValue:)))
    }
}
