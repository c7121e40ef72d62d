import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes

/// Quotes (docs/journeys.md): made at any touchpoint and priced by the catalog in force then,
/// the prices locked until the quote expires; opened by id or by short code; accepted once,
/// booking every item through the one booking path (``ActivationFlow/book(_:dealer:check:respond:)``)
/// in one transaction, credited by the stated ``AttributionRule``.
struct QuoteFlow {
    let services: FoDServices

    /// Makes a quote for `principal`: a dealer key at its site's counter (channel `dealer`), an
    /// issuer key for the app, the web shop or the car.
    /// - Throws: ``APIError`` 422 `request_invalid` (a channel the key cannot use), `expires_at_invalid`,
    ///   `preferred_dealer_invalid`, and every refusal of an activation (`not_eligible`, `term_not_offered`, …).
    func make(_ request: QuoteRequest, principal: Principal) async throws -> StoredQuote {
        let now = services.clock.unixSeconds()
        if principal.role == .dealer {
            guard request.channel == .dealer, principal.dealer != nil else {
                throw APIError(.unprocessableContent, "request_invalid", "a dealer key makes quotes at its counter: channel must be dealer")
            }
        } else if request.channel == .dealer {
            throw APIError(.unprocessableContent, "request_invalid", "channel dealer is a site's counter: make the quote with that site's dealer key")
        }
        let expiresAt = request.expiresAt ?? now + services.quotes.validity
        guard expiresAt > now, expiresAt <= now + services.quotes.maxValidity else {
            throw APIError(.unprocessableContent, "expires_at_invalid",
                           "expires_at must be after now and at most \(services.quotes.maxValidity / 86_400) days ahead")
        }
        let orders = request.items.map { ActivationRequest(vin: request.vin, feature: $0.feature, term: $0.term, extend: $0.extend) }
        // Eligible now, priced now: the catalog version in force, campaign prices included.
        let quotes = try await ActivationFlow(services: services).quotes(orders)
        if let preferred = request.preferredDealer {
            guard let site = try await services.store.site(preferred), site.isOpen(at: now) else {
                throw APIError(.unprocessableContent, "preferred_dealer_invalid", "\(preferred) is not an open site")
            }
            guard site.market == quotes[0].vehicle.market.code else {
                throw APIError(.unprocessableContent, "preferred_dealer_invalid", "\(preferred) is a site in \(site.market); the vehicle is in \(quotes[0].vehicle.market)")
            }
        }
        let items = zip(request.items, quotes).map { item, quote in
            StoredQuote.Item(feature: item.feature, term: item.term, extend: item.extend, gross: quote.price.gross, vat: quote.price.vat,
                             campaign: quote.price.campaign)
        }
        let id = "qt-" + Hex.encode(SecureRandom.bytes(12))
        for _ in 0..<5 {
            let quote = StoredQuote(id: id, code: QuoteCode.make(), vin: request.vin, market: quotes[0].vehicle.market, channel: request.channel.rawValue,
                                    dealer: principal.role == .dealer ? principal.dealer : nil, salesperson: principal.salesperson,
                                    preferredDealer: request.preferredDealer, catalogVersion: quotes[0].catalogVersion, createdAt: now,
                                    expiresAt: expiresAt, createdBy: principal.actor, items: items)
            do {
                try await services.store.createQuote(quote, at: now)
                return quote
            } catch let error as StoreError where error.code == .conflict {
                continue  // the code is taken (one in 10^17 per open quote): draw another
            }
        }
        throw APIError(.serviceUnavailable, "quote_code_unavailable", "no free quote code was drawn; try again")
    }

    /// The quote `id` as `principal` may see it: the OEM's keys every quote, a dealer key the
    /// quotes its site made, was chosen in or was credited with — or any whose code it shows.
    /// - Throws: ``APIError`` 404 `quote_not_found`.
    func visible(_ id: String, principal: Principal, code: String? = nil) async throws -> StoredQuote {
        guard id.utf8.count <= 64, let quote = try await services.store.quote(id: id), canSee(quote, principal, code: code) else {
            throw QuoteFlow.notFound(id)
        }
        return quote
    }

    /// The quote with this code, for any key that shows it; a lookup that finds nothing costs a
    /// token of the key's budget (``KeyedRateLimit``): guessing codes is slowed to a crawl.
    /// - Throws: ``APIError`` 404 `quote_not_found`, 429 `rate_limited`.
    func byCode(_ input: String, principal: Principal) async throws -> StoredQuote {
        let limiter = services.quoteCodeMisses
        guard limiter.allows(principal.keyID) else {
            throw APIError(.tooManyRequests, "rate_limited",
                           "too many quote codes that matched nothing were tried with this key; retry in \(max(1, limiter.retryAfter(principal.keyID))) seconds")
        }
        guard let code = QuoteCode.normalized(input), let quote = try await services.store.quote(code: code) else {
            limiter.charge(principal.keyID)
            throw APIError(.notFound, "quote_not_found", "no quote has the code \(String(input.prefix(20))): check it with the customer")
        }
        return quote
    }

    /// The vehicle's open quotes `principal` may see.
    func openQuotes(_ vin: VIN, principal: Principal) async throws -> [StoredQuote] {
        try await services.store.openQuotes(of: vin, at: services.clock.unixSeconds()).filter { canSee($0, principal, code: nil) }
    }

    /// Accepts the quote: every item booked at its locked price, in one transaction, or none.
    /// - Throws: ``APIError`` 404 `quote_not_found`, 409 `quote_accepted` / `quote_expired` /
    ///   `quote_cancelled` / `already_active`, 422 `consent_invalid` / `no_servicing_dealer`, and
    ///   every refusal of an activation (eligibility is checked again now).
    func accept(_ id: String, _ request: QuoteAcceptRequest, principal: Principal, idempotencyKey: String) async throws -> ActivationFlow.Outcome {
        // One read: the quote, its vehicle and the vehicle's entitlements.
        guard id.utf8.count <= 64, let read = try await services.store.quoteWithVehicle(id: id), canSee(read.quote, principal, code: request.code) else {
            throw QuoteFlow.notFound(id)
        }
        let quote = read.quote
        let now = services.clock.unixSeconds()
        let atCounter = principal.role == .dealer
        let consent: Consent
        if atCounter {
            consent = request.consent ?? .inPerson
        } else {
            guard let given = request.consent, given.termsVersion != nil else {
                throw APIError(.unprocessableContent, "field_missing",
                               "consent: \"terms_version\" is required when the shop, app or car accepts a quote (the terms the customer accepted)")
            }
            consent = given
        }
        let channel = atCounter ? Channel.dealer : (request.channel ?? QuoteChannel(rawValue: quote.channel) ?? .app).salesChannel
        let requestHash = RequestHash(SHA256.hexHash(Array("quote-accept\n\(quote.id)\n\(JSONWriter.text(ActivationFlow.canonical(consent)))\n\(channel)".utf8)))
        if let refusal = StoredQuote.refusal(quote.status(at: now), id: quote.id) {
            // The same acceptance again answers the first answer; another is refused.
            if let previous = try await services.store.idempotentResponse(principal: principal.keyID, key: idempotencyKey, requestHash: requestHash) {
                return try ActivationFlow.Outcome(replaying: previous)
            }
            throw refusal
        }
        let flow = ActivationFlow(services: services)
        let items = quote.items.map { item in
            ActivationFlow.Booking.Item(order: ActivationRequest(vin: quote.vin, feature: item.feature, term: item.term, consent: consent, extend: item.extend),
                                        locked: item)
        }
        let booking = ActivationFlow.Booking(items: items, channel: channel.rawValue, consent: consent, principal: principal, scope: principal.keyID,
                                             key: idempotencyKey, requestHash: requestHash, quote: (quote.id, quote.catalogVersion),
                                             preloaded: (read.vehicle, read.entitlements))
        return try await flow.book(booking, dealer: { vehicle in
            let credited = try await services.quotes.attribution.credit { reason -> DealerID? in
                switch reason {
                case .counter: return atCounter ? principal.dealer : nil
                case .preferred: return try await openSite(quote.preferredDealer, at: now)
                case .quoted: return try await openSite(quote.dealer, at: now)
                case .servicing: return try await flow.servicingDealer(of: vehicle)
                }
            }
            guard let credited else {
                throw APIError(.unprocessableContent, "no_servicing_dealer",
                               "no site can be credited under the rule \(services.quotes.attribution) and \(vehicle.vin) has no servicing dealer: set one first")
            }
            return (credited.site, credited.reason)
        }, check: { _ in }) { booked, credited in
            let bookings = booked.map { item in
                QuoteBookingBody(id: item.issued.claims.id, feature: item.issued.claims.feature, term: item.issued.claims.term, dealer: credited.dealer,
                                 attribution: credited.attribution, channel: channel.rawValue, notBefore: item.issued.claims.notBefore,
                                 expiresAt: item.issued.claims.expiresAt, price: PriceBody(item.quote.price), token: item.issued.token)
            }
            return QuoteAcceptResponse(id: quote.id, vin: quote.vin, creditedDealer: credited.dealer, attribution: credited.attribution,
                                       totalMinor: quote.totalMinor, currency: quote.items[0].gross.currency, bookings: bookings)
        }
    }

    /// Cancels an open quote: the OEM's keys any, a dealer key those its site made.
    /// - Throws: ``APIError`` 404 `quote_not_found`, 403 `forbidden`, 409 `quote_accepted` / `quote_expired` / `quote_cancelled`.
    func cancel(_ id: String, principal: Principal) async throws -> StoredQuote {
        let quote = try await visible(id, principal: principal)
        if principal.role == .dealer, quote.dealer != principal.dealer {
            throw APIError.forbidden("a site cancels only the quotes it made")
        }
        return try await services.store.cancelQuote(quote.id, actor: principal.actor, at: services.clock.unixSeconds())
    }

    /// The quote as answered, with what it booked (read for an accepted quote).
    func answer(_ quote: StoredQuote) async throws -> QuoteResponse {
        var bookings: [QuoteBookingBody] = []
        if quote.storedStatus == .accepted {
            bookings = try await services.store.quoteBookings(quote.id).map {
                QuoteBookingBody(id: $0.entitlementID, feature: $0.feature, term: $0.term, dealer: $0.dealer, attribution: $0.attribution, channel: $0.channel)
            }
        }
        return response(quote, bookings: bookings)
    }

    /// The quote as answered, with `bookings` given.
    func response(_ quote: StoredQuote, bookings: [QuoteBookingBody]) -> QuoteResponse {
        let catalog = services.catalog
        let items = quote.items.map { item in
            QuoteItemBody(feature: item.feature, name: catalog.feature(item.feature)?.name ?? item.feature.value, term: item.term, extend: item.extend,
                          price: PriceBody(Price(market: quote.market, term: item.term, gross: item.gross, vat: item.vat, campaign: item.campaign)))
        }
        let currency = quote.items[0].gross.currency
        return QuoteResponse(id: quote.id, code: QuoteCode.display(quote.code), status: quote.status(at: services.clock.unixSeconds()).rawValue, vin: quote.vin,
                             channel: QuoteChannel(rawValue: quote.channel) ?? .app, dealer: quote.dealer, salesperson: quote.salesperson?.value,
                             preferredDealer: quote.preferredDealer, catalogVersion: quote.catalogVersion, createdAt: quote.createdAt,
                             expiresAt: quote.expiresAt, items: items, totalMinor: quote.totalMinor, currency: currency,
                             closedAt: quote.closedAt, creditedDealer: quote.creditedDealer, attribution: quote.attribution, bookings: bookings,
                             qr: "/v1/quotes/\(quote.id)/qr", dealerPage: services.quotes.dealerPage(code: quote.code))
    }

    /// The site, if it is open at `now`.
    private func openSite(_ id: DealerID?, at now: Int64) async throws -> DealerID? {
        guard let id, let site = try await services.store.site(id), site.isOpen(at: now) else { return nil }
        return id
    }

    private func canSee(_ quote: StoredQuote, _ principal: Principal, code: String?) -> Bool {
        guard principal.role == .dealer else { return true }
        if let site = principal.dealer, quote.concerns(site) { return true }
        return code.flatMap(QuoteCode.normalized) == quote.code
    }

    static func notFound(_ id: String) -> APIError {
        APIError(.notFound, "quote_not_found", "there is no quote \(String(id.prefix(40))) you may see")
    }
}
