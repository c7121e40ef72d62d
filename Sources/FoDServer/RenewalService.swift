import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Logging
import ServiceLifecycle

/// Renews subscriptions: each period's token is issued before the current one ends, as a sale
/// like the first — a priced activation event at the catalog's subscription price for the
/// vehicle's market, in the same channel, credited like the first (a counter sale to the dealer
/// who sold it, a purchase to the vehicle's servicing dealer of the moment). Exactly once per
/// period however many runs go at once, on one instance or several (``LedgerStore/recordRenewal(_:actor:at:)``);
/// a run that is killed leaves every renewal it made whole and the rest to the next run.
public struct RenewalService: Sendable {
    let services: FoDServices

    public init(services: FoDServices) { self.services = services }

    /// How many due subscriptions are read at a time.
    static let page = 500

    /// What a run did.
    public struct Summary: Sendable, Equatable {
        /// Periods this run booked.
        public var renewed = 0
        /// Periods another run booked first, or cancelled or revoked meanwhile.
        public var taken = 0
        /// Subscriptions not renewed, with why (not sold, no longer offered in the market).
        public var skipped: [String] = []
        /// Entitlements ended because a change of owner recorded ahead took effect (``TransferService``).
        public var endedByTransfer = 0
    }

    /// Renews every subscription ending within `lead` seconds after `now` (the service's clock
    /// when `nil`).
    /// - Throws: ``StoreError``, ``APIError`` `no_signing_key`.
    /// - Parameter stop: asked before each renewal; `true` ends the run there (a shutdown): what
    ///   is booked is whole, the rest is the next run's.
    public func run(at instant: Int64? = nil, lead: Int64, actor: String = "system:renewal",
                    stop: @Sendable () -> Bool = { false }) async throws -> Summary {
        var summary = Summary()
        // Changes of owner recorded ahead of their date take effect first (what they end is not renewed).
        summary.endedByTransfer = try await TransferService(services: services).takeEffect(at: instant ?? services.clock.unixSeconds())
        guard lead > 0 else { return summary }
        var after: EntitlementID?
        while true {
            let now = instant ?? services.clock.unixSeconds()
            let due = try await services.store.renewalsDue(at: now, until: now + lead, after: after, limit: RenewalService.page)
            for previous in due {
                if stop() { return summary }
                switch try await renew(previous, at: now, actor: actor) {
                case .renewed: summary.renewed += 1
                case .taken: summary.taken += 1
                case .skipped(let why): summary.skipped.append("\(previous.claims.id): \(why)")
                }
            }
            guard due.count == RenewalService.page, let last = due.last else { return summary }
            after = last.claims.id
        }
    }

    private enum Outcome { case renewed, taken, skipped(String) }

    private func renew(_ previous: StoredEntitlement, at now: Int64, actor: String) async throws -> Outcome {
        let claims = previous.claims
        guard let end = claims.expiresAt else { return .skipped("no end") }
        guard let sale = try await services.store.sale(of: claims.id) else { return .skipped("issued directly, not sold: renew it from the backend") }
        guard let vehicle = try await services.store.vehicle(claims.vin) else { return .skipped("the vehicle is no longer registered") }
        if services.catalog.feature(claims.feature)?.transferable == false,
           let transfer = try await services.store.transfers(of: claims.vin).first(where: { $0 > claims.issuedAt && $0 <= end }) {
            return .skipped("\(claims.feature) does not stay with the vehicle, which changes owner on \(Instant(unixSeconds: transfer).rfc3339)")
        }
        // Priced by the list price of the catalog version in force when the new period starts (docs/catalog.md):
        // no campaign; a retired feature's subscriptions go on (they are contracts already made).
        guard let version = services.catalogs.current().version(at: end),
              let price = version.catalog.feature(claims.feature)?.price(market: vehicle.market, term: .subscription) else {
            return .skipped("\(claims.feature) is no longer offered as a subscription in \(vehicle.market)")
        }
        var dealer = claims.dealer
        if sale.channel != "dealer" {
            let assignments = try await services.store.dealerAssignments(of: vehicle.vin)
            dealer = DealerAssignment.dealer(at: now, assignments, base: vehicle.servicingDealer) ?? claims.dealer
        }
        // This run signs with the keys the service publishes: the current period's token verifies
        // with them (a run with other keys, such as a development key beside a production service,
        // would book tokens the car rejects), and so does the new one at its start.
        let published = Verifier(keys: services.keys, issuer: services.signing.issuerID, clock: FixedClock(unixSeconds: max(claims.notBefore, min(now, end - 1))))
        do { _ = try published.verifyEntitlement(previous.token, vin: claims.vin) } catch let error as EntitlementError {
            throw APIError(.internalServerError, "renewal_keys_mismatch",
                           "the current period's token of \(claims.id) does not verify with this run's keys (\(error.code)): renew with the service's keys (--key, --trust)")
        }
        let issued = try services.signer(.entitlement).issue(EntitlementRequest(vin: claims.vin, feature: claims.feature, term: .subscription,
                                                                                 dealer: dealer, notBefore: end))
        do { _ = try Verifier(keys: services.keys, issuer: services.signing.issuerID, clock: FixedClock(unixSeconds: end)).verifyEntitlement(issued.token, vin: claims.vin) }
        catch let error as EntitlementError {
            throw APIError(.internalServerError, "renewal_keys_mismatch", "the renewal of \(claims.id) does not verify with the published keys (\(error.code))")
        }
        let record = RenewalRecord(previous: claims.id, activation: NewActivation(entitlement: issued, channel: sale.channel, market: vehicle.market,
                                                                                   gross: price.gross, vat: price.vat, consent: sale.consent,
                                                                                   catalogVersion: version.label))
        return try await services.store.recordRenewal(record, actor: actor, at: now) ? .renewed : .taken
    }
}

/// The renewal job of `fod serve`: a run every ``interval`` under the application's service
/// group; on shutdown it stops between two renewals and before the store closes.
public struct RenewalJob: Service {
    let services: FoDServices
    let lead: Int64
    let interval: Duration
    let logger: Logger

    /// - Parameters:
    ///   - lead: renew what ends within this many seconds.
    ///   - interval: between two runs.
    public init(services: FoDServices, lead: Int64, interval: Duration = .seconds(300), logger: Logger) {
        self.services = services
        self.lead = lead
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let summary = try await RenewalService(services: services).run(lead: lead, stop: { Task.isShuttingDownGracefully || Task.isCancelled })
                if summary.endedByTransfer > 0 {
                    logger.notice("changes of owner took effect", metadata: ["ended": "\(summary.endedByTransfer)"])
                }
                if summary.renewed > 0 || !summary.skipped.isEmpty {
                    logger.notice("subscriptions renewed", metadata: ["renewed": "\(summary.renewed)", "skipped": "\(summary.skipped.count)"])
                }
            } catch {
                logger.error("renewal run failed", metadata: ["reason": .string("\((error as? any CodedError)?.reason ?? "\(error)")")])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
