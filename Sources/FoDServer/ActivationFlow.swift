import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A sale, from every channel: the counter (`POST /v1/activations` and the dealer web page),
/// credited to the caller's dealer, and a purchase in the OEM's shop, app or car
/// (`POST /v1/purchases`), credited to the vehicle's servicing dealer at the time of the
/// purchase. Both check eligibility against the vehicle and catalog and take the catalog price
/// for the vehicle's market; the entitlement, the priced activation event and the customer's
/// consent are recorded in one transaction with the idempotency record, so a retry gets the
/// first answer and nothing is booked twice.
struct ActivationFlow {
    let services: FoDServices

    /// The idempotency scope of purchases: an order id is one order whichever of the shop's keys sends it.
    static let purchaseScope = "purchase-order"

    /// The order's members in a fixed order: the same request whatever its spelling (member
    /// order, spacing, a VIN in lower case), from the API or the dealer page.
    static func canonical(_ order: ActivationRequest) -> String {
        var members: [JSONObject.Member] = [.init(name: "vin", value: .string(order.vin.value)),
                                            .init(name: "feature", value: .string(order.feature.value)),
                                            .init(name: "term", value: .string(order.term.rawValue))]
        // Absent, the hash is what versions before consents stored for the same order.
        if let consent = order.consent { members.append(.init(name: "consent", value: canonical(consent))) }
        if order.extend { members.append(.init(name: "extend", value: .bool(true))) }
        return JSONWriter.text(.object(JSONObject(members: members)))
    }

    /// The consent's members in a fixed order.
    static func canonical(_ consent: Consent) -> JSONValue {
        .object(JSONObject(members: [.init(name: "terms_version", value: consent.termsVersion.map { .string($0) } ?? .null),
                                     .init(name: "immediate_start", value: .bool(consent.immediateStart)),
                                     .init(name: "acknowledged_at", value: consent.acknowledgedAt.map { .number(String($0)) } ?? .null)]))
    }

    /// What identifies the order for its idempotency key; `earlier` are hashes fod versions
    /// before this one stored for the same request.
    static func requestHash(_ order: ActivationRequest, earlier: [String] = []) -> RequestHash {
        RequestHash(SHA256.hexHash(Array("activation\n\(canonical(order))".utf8)), earlier: earlier)
    }

    /// What identifies a purchase for its order id: every member, in a fixed order.
    static func requestHash(_ purchase: PurchaseRequest) -> RequestHash {
        let order = ActivationRequest(vin: purchase.vin, feature: purchase.feature, term: purchase.term, consent: purchase.consent, extend: purchase.extend)
        let text = "purchase\n\(canonical(order))\n\(purchase.channel.rawValue)\n\(purchase.grossMinor) \(purchase.currency.code)"
        return RequestHash(SHA256.hexHash(Array(text.utf8)))
    }

    /// The stored answer, the entitlement it made and whether this call created it (false: a replay).
    struct Outcome {
        let response: IdempotentResponse
        let entitlementID: EntitlementID
        let created: Bool

        /// What every version's stored activation and purchase answer has: the entitlement's id;
        /// a quote's acceptance has its bookings' (the answer itself is replayed byte for byte).
        private struct StoredAnswer: Decodable {
            let id: EntitlementID?
            let bookings: [Booked]?
            struct Booked: Decodable { let id: EntitlementID }
        }

        /// The outcome of a replay: the (first) entitlement's id from the stored answer.
        init(replaying response: IdempotentResponse) throws {
            guard let stored = try? JSONValueDecoder().decode(StoredAnswer.self, from: response.body),
                  let id = stored.id ?? stored.bookings?.first?.id else {
                throw APIError(.internalServerError, "internal", "the stored activation answer has no entitlement id")
            }
            self.response = response
            self.entitlementID = id
            self.created = false
        }

        init(response: IdempotentResponse, entitlementID: EntitlementID, created: Bool) {
            self.response = response
            self.entitlementID = entitlementID
            self.created = created
        }
    }

    /// Activates `order` for `principal`'s dealer under `idempotencyKey`.
    /// - Parameter requestHash: identifies the request, so the same key with another request is refused.
    /// - Throws: ``APIError`` (403 no dealer, 404 `vehicle_not_found` / `feature_unknown`, 409 `already_active`,
    ///   422 `not_eligible` (with the refusal) / `term_not_offered` / `trial_used` / `idempotency_key_reused`),
    ///   ``EntitlementError``, ``StoreError``.
    func activate(_ order: ActivationRequest, principal: Principal, idempotencyKey: String, requestHash: RequestHash) async throws -> Outcome {
        guard principal.role == .dealer, let dealer = principal.dealer else {
            throw APIError.forbidden("activations are made with a dealer key and credited to that dealer")
        }
        let booking = Booking(items: [.init(order: order)], channel: "dealer", consent: order.consent ?? .inPerson, principal: principal,
                              scope: principal.keyID, key: idempotencyKey, requestHash: requestHash)
        return try await book(booking, dealer: { _ in (dealer, .counter) }, check: { _ in }) { booked, _ in
            ActivationResponse(claims: booked[0].issued.claims, token: booked[0].issued.token, price: booked[0].quote.price)
        }
    }

    /// Books a purchase from the OEM's shop, app or car, credited to the vehicle's servicing dealer now.
    /// - Throws: as ``activate(_:principal:idempotencyKey:requestHash:)``, and ``APIError`` 422
    ///   `price_mismatch` (not the catalog price), `no_servicing_dealer`, `order_id_reused`.
    func purchase(_ purchase: PurchaseRequest, principal: Principal) async throws -> Outcome {
        let order = ActivationRequest(vin: purchase.vin, feature: purchase.feature, term: purchase.term, consent: purchase.consent, extend: purchase.extend)
        let booking = Booking(items: [.init(order: order)], channel: purchase.channel.rawValue, consent: purchase.consent, principal: principal,
                              scope: ActivationFlow.purchaseScope, key: purchase.orderID, requestHash: ActivationFlow.requestHash(purchase))
        do {
            return try await book(booking, dealer: { vehicle in
                guard let dealer = try await servicingDealer(of: vehicle) else {
                    throw APIError(.unprocessableContent, "no_servicing_dealer",
                                   "\(vehicle.vin) has no servicing dealer to credit: set one first (PUT /v1/vehicles/\(vehicle.vin)/dealer)")
                }
                return (dealer, .servicing)
            }, check: { quote in
                let price = quote.price.gross
                guard purchase.grossMinor == price.minor, purchase.currency == price.currency else {
                    throw APIError(.unprocessableContent, "price_mismatch",
                                   "the catalog price of \(quote.feature.name) for \(purchase.term) in \(quote.vehicle.market) is \(price.minor) \(price.currency.code) (minor units), the order says \(purchase.grossMinor) \(purchase.currency.code)")
                }
            }) { booked, credited in
                PurchaseResponse(orderID: purchase.orderID, channel: purchase.channel, claims: booked[0].issued.claims, dealer: credited.dealer,
                                 token: booked[0].issued.token, price: booked[0].quote.price)
            }
        } catch let error as StoreError where error.code == .idempotencyMismatch {
            throw APIError(.unprocessableContent, "order_id_reused", "order \(purchase.orderID) was already booked with a different request")
        }
    }

    /// The vehicle's servicing site now: the assignment in force, else the one it was registered with.
    func servicingDealer(of vehicle: Vehicle) async throws -> DealerID? {
        let assignments = try await services.store.dealerAssignments(of: vehicle.vin)
        return DealerAssignment.dealer(at: services.clock.unixSeconds(), assignments, base: vehicle.servicingDealer)
    }

    /// One sale to book: its items (one for an activation or purchase, a quote's items on its
    /// acceptance: all or none), its channel and consent, and its idempotency record.
    struct Booking {
        /// One item: the order and, from a quote, the price locked in it.
        struct Item {
            let order: ActivationRequest
            var locked: StoredQuote.Item? = nil
        }
        let items: [Item]
        let channel: String
        let consent: Consent
        let principal: Principal
        let scope: String
        let key: String
        let requestHash: RequestHash
        /// The quote whose acceptance this is, and the catalog version its prices come from.
        var quote: (id: String, catalogVersion: String)? = nil
        /// The vehicle and its entitlements when the caller read them already (with the quote).
        var preloaded: (vehicle: Vehicle?, entitlements: [StoredEntitlement])? = nil
    }

    /// One item as booked: its signed entitlement and what it was priced and checked as.
    struct Booked {
        let issued: IssuedToken<EntitlementClaims>
        let quote: Quote
    }

    /// Quotes the items, decides the site credited (and why), signs and records the sale with the
    /// answer `respond` makes. An order refused now (the vehicle gone, the trial used by the first
    /// call) whose key was used answers the stored first answer; an order that can be booked goes
    /// to the group commit, which reads its key under the write lock anyway and replays the first
    /// answer — one read per new sale, not two. A quote's items are one record: booked together
    /// or not at all.
    func book<Answer: Encodable>(_ booking: Booking, dealer: (Vehicle) async throws -> (DealerID, Attribution), check: (Quote) throws -> Void,
                                 respond: ([Booked], (dealer: DealerID, attribution: Attribution)) throws -> Answer) async throws -> Outcome {
        var quotes: [Quote] = [], ends: [Int64?] = []
        let credited: (dealer: DealerID, attribution: Attribution)
        do {
            if let preloaded = booking.preloaded {
                quotes = try self.quotes(booking.items.map(\.order), vehicle: try services.registered(preloaded.vehicle, booking.items[0].order.vin),
                                         entitlements: preloaded.entitlements)
            } else {
                quotes = try await self.quotes(booking.items.map(\.order))
            }
            for (index, item) in booking.items.enumerated() {
                if let locked = item.locked {
                    // The price locked in the quote, whatever the catalog says now.
                    quotes[index].price = Price(market: quotes[index].vehicle.market, term: item.order.term, gross: locked.gross, vat: locked.vat,
                                                campaign: locked.campaign)
                    quotes[index].catalogVersion = booking.quote?.catalogVersion ?? quotes[index].catalogVersion
                }
                try check(quotes[index])
            }
            let now = services.clock.unixSeconds()
            if let problem = booking.consent.acknowledgementProblem(soldAt: now) {
                throw APIError(.unprocessableContent, "consent_invalid", problem)
            }
            let transfer = try await pendingTransfer(quotes, items: booking.items, now: now)
            for (index, quote) in quotes.enumerated() {
                ends.append(try endBeforeTransfer(quote, term: booking.items[index].order.term, transfer: transfer, now: now))
            }
            let (site, reason) = try await dealer(quotes[0].vehicle)
            credited = (site, reason)
        } catch let refusal as APIError {
            if let previous = try await services.store.idempotentResponse(principal: booking.scope, key: booking.key, requestHash: booking.requestHash) {
                services.metrics.activation(replayed: true)
                return try Outcome(replaying: previous)
            }
            throw refusal
        }
        let signer = try services.signer(.entitlement)
        var booked: [Booked] = []
        for (index, quote) in quotes.enumerated() {
            let order = booking.items[index].order
            let issued = try signer.issue(EntitlementRequest(vin: order.vin, feature: order.feature, term: order.term, dealer: credited.dealer,
                                                             notBefore: quote.startsAt, expiresAt: ends[index]))
            booked.append(Booked(issued: issued, quote: quote))
        }
        let activations = booked.map { item in
            NewActivation(entitlement: item.issued, channel: booking.channel, market: item.quote.vehicle.market, gross: item.quote.price.gross,
                          vat: item.quote.price.vat, consent: booking.consent, extends: item.quote.extends, salesperson: booking.principal.salesperson,
                          catalogVersion: item.quote.catalogVersion, campaign: item.quote.price.campaign, attribution: credited.attribution,
                          quote: booking.quote?.id)
        }
        let record = ActivationRecord(
            activations: activations,
            quote: booking.quote.map { QuoteAcceptance(quoteID: $0.id, creditedDealer: credited.dealer, attribution: credited.attribution) },
            principal: booking.principal, idempotencyScope: booking.scope, idempotencyKey: booking.key, requestHash: booking.requestHash,
            response: IdempotentResponse(status: booking.quote == nil ? 201 : 200, body: try APIResponseEncoder.bytes(try respond(booked, credited))))
        do {
            let recorded = try await services.activations.submit(record)
            services.metrics.activation(replayed: !recorded.created)
            return recorded.created ? Outcome(response: recorded.response, entitlementID: booked[0].issued.claims.id, created: true)
                : try Outcome(replaying: recorded.response)
        } catch let error as StoreError where error.code == .conflict {
            let names = quotes.map(\.feature.name).joined(separator: ", ")
            if quotes.contains(where: { $0.extends != nil }) { throw APIError(.conflict, "already_extended", "\(names): extended or booked meanwhile: look the vehicle up again") }
            throw APIError(.conflict, "already_active", "\(names): already active on this vehicle")
        }
    }

    /// The change of owner recorded for a later date, if one of the items needs it (a feature
    /// that does not stay with the vehicle, for a fixed term or a subscription).
    private func pendingTransfer(_ quotes: [Quote], items: [Booking.Item], now: Int64) async throws -> Int64? {
        guard let vin = quotes.first?.vehicle.vin,
              zip(quotes, items).contains(where: { $0.feature.transferable == false && $1.order.term != .permanent }) else { return nil }
        return try await services.store.transfers(of: vin).first(where: { $0 > now })
    }

    /// A feature that does not stay with the vehicle, sold while a change of owner is recorded for a
    /// later date, ends at that date (a permanent one is revoked then: ``TransferService``); one
    /// that would only start after it is refused. `nil`: the term's own end.
    /// - Throws: ``APIError`` 422 `transfer_pending`.
    private func endBeforeTransfer(_ quote: Quote, term: Term, transfer: Int64?, now: Int64) throws -> Int64? {
        guard quote.feature.transferable == false, term != .permanent, let transfer else { return nil }
        let start = quote.startsAt ?? now
        guard start < transfer else {
            throw APIError(.unprocessableContent, "transfer_pending",
                           "\(quote.vehicle.vin) changes owner on \(Instant(unixSeconds: transfer).rfc3339) and \(quote.feature.name) does not stay with the vehicle: this term would only start after that")
        }
        guard let end = term.end(startingAt: start), end > transfer else { return nil }
        return transfer
    }

    /// What an order that can be booked books: the vehicle, the catalog feature and the price —
    /// also what the dealer page's confirmation step shows.
    struct Quote {
        let vehicle: Vehicle
        let feature: CatalogFeature
        var price: Price
        /// The catalog version it is priced by.
        var catalogVersion: String
        /// An extension's start (the current end; now for an upgrade to permanent); `nil`: now.
        var startsAt: Int64? = nil
        /// The entitlement an extension continues.
        var extends: EntitlementID? = nil
    }

    /// The quote of an order that can be booked (the dealer page's confirmation step).
    /// - Throws: as ``quote(_:vehicle:trials:)``.
    func quote(_ order: ActivationRequest) async throws -> Quote {
        if order.extend { return try await extensionQuote(order) }
        // One read: the vehicle and, for a trial, its entitlements (the trial already used).
        guard order.term == .trial else { return try quote(order, vehicle: try await services.store.vehicle(order.vin), trials: []) }
        let read = try await services.store.vehicleWithEntitlements(order.vin)
        let trials = read?.entitlements.filter { $0.claims.feature == order.feature && $0.claims.term == .trial } ?? []
        return try quote(order, vehicle: read?.vehicle, trials: trials)
    }

    /// The quotes of several orders for one vehicle: one read of the vehicle and its entitlements
    /// for all (one order: as ``quote(_:)``).
    /// - Throws: as ``quote(_:)``, for the first order refused.
    func quotes(_ orders: [ActivationRequest]) async throws -> [Quote] {
        guard orders.count > 1 else { return [try await quote(orders[0])] }
        let (vehicle, entitlements) = try await services.vehicleWithEntitlements(orders[0].vin)
        return try quotes(orders, vehicle: vehicle, entitlements: entitlements)
    }

    /// The quotes of several orders for the vehicle and its entitlements as read.
    func quotes(_ orders: [ActivationRequest], vehicle: Vehicle, entitlements: [StoredEntitlement]) throws -> [Quote] {
        try orders.map { order in
            if order.extend { return try extensionQuote(order, vehicle: vehicle, entitlements: entitlements) }
            let trials = order.term == .trial ? entitlements.filter { $0.claims.feature == order.feature && $0.claims.term == .trial } : []
            return try quote(order, vehicle: vehicle, trials: trials)
        }
    }

    /// The quote of an extension: the feature's newest live entitlement with a fixed end is
    /// continued — a fixed term from its end, `permanent` from now.
    /// - Throws: as ``quote(_:vehicle:trials:)``, and ``APIError`` 422 `extension_invalid` (a trial or a
    ///   subscription: those are not extended), `nothing_to_extend`, 409 `already_active` (permanent already).
    func extensionQuote(_ order: ActivationRequest) async throws -> Quote {
        let (vehicle, entitlements) = try await services.vehicleWithEntitlements(order.vin)
        return try extensionQuote(order, vehicle: vehicle, entitlements: entitlements)
    }

    /// The quote of an extension for the vehicle and its entitlements as read.
    func extensionQuote(_ order: ActivationRequest, vehicle: Vehicle, entitlements: [StoredEntitlement]) throws -> Quote {
        guard order.term != .trial, order.term != .subscription else {
            throw APIError(.unprocessableContent, "extension_invalid", "a \(order.term) is not an extension: extend by a fixed term or upgrade to permanent")
        }
        var quote = try quote(order, vehicle: vehicle, trials: [])
        let now = services.clock.unixSeconds()
        let live = entitlements.filter { $0.claims.feature == order.feature && $0.revokedAt == nil && ($0.claims.expiresAt.map { $0 > now } ?? true) }
        if live.contains(where: { $0.claims.expiresAt == nil }) {
            throw APIError(.conflict, "already_active", "\(quote.feature.name) is active on this vehicle for its life already")
        }
        guard let current = live.filter({ $0.claims.term != .subscription }).max(by: { ($0.claims.expiresAt ?? 0, $0.claims.id) < ($1.claims.expiresAt ?? 0, $1.claims.id) }),
              let end = current.claims.expiresAt else {
            throw APIError(.unprocessableContent, "nothing_to_extend", "\(quote.feature.name) is not active on this vehicle with a fixed term: book it as a new sale")
        }
        quote.startsAt = order.term == .permanent ? now : end
        quote.extends = current.claims.id
        return quote
    }

    /// The quote of an order for the vehicle as stored (`nil`: not registered).
    /// - Throws: ``APIError`` 404 `vehicle_not_found` / `feature_unknown`, 422 `not_eligible` (carrying the
    ///   ``Refusal``: rule, feature, equipment) / `term_not_offered` / `trial_used`.
    /// - Parameter trials: for a trial, the vehicle's trials of the feature so far (newest first).
    func quote(_ order: ActivationRequest, vehicle: Vehicle?, trials: [StoredEntitlement]) throws -> Quote {
        let vehicle = try services.registered(vehicle, order.vin)
        // One snapshot for the whole quote: the version in force now, its campaign prices, its retirements.
        let now = services.clock.unixSeconds()
        let catalog = services.catalog(at: now)
        guard let feature = catalog.feature(order.feature) else {
            throw APIError(.notFound, "feature_unknown", "\(order.feature) is not in the catalog")
        }
        if let refusal = feature.refusal(for: vehicle, equipmentNames: catalog.equipmentNames) {
            throw APIError(refusal: refusal)
        }
        if let retired = feature.retirement(at: now) { throw APIError(.unprocessableContent, "feature_retired", retired.message) }
        let (_, price) = try services.offered(order.feature, order.term, for: vehicle, in: catalog)
        if order.term == .trial {
            // At most `trialsPerFeature` free trials per vehicle and feature, ever (one by default):
            // revoking or ending one does not give another.
            guard services.trialsPerFeature > 0 else {
                throw APIError(.unprocessableContent, "trial_used", "Free trials are not offered: book \(feature.name) for a term.")
            }
            if trials.count >= services.trialsPerFeature, let newest = trials.first {
                let which = services.trialsPerFeature == 1 ? "The free trial" : "All \(services.trialsPerFeature) free trials"
                throw APIError(.unprocessableContent, "trial_used",
                               "\(which) of \(feature.name) \(services.trialsPerFeature == 1 ? "was" : "were") already used on this vehicle (the last from \(Instant(unixSeconds: newest.claims.notBefore).displayDate)).")
            }
        }
        return Quote(vehicle: vehicle, feature: feature, price: price, catalogVersion: catalog.version)
    }
}
