import FoDCore
import FoDInvoicing
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes
import Synchronization

/// What the routes work with: the database, the signing issuer, the verifier for the published
/// keys, the catalog, and the clock.
public struct FoDServices: Sendable {
    /// The store: ``SQLiteStore`` by default, `PostgresStore` for several instances.
    public let store: any EntitlementStore
    /// The keys signing and published (one key, or root metadata's issuing keys).
    public let signing: SigningKeys
    /// The catalog over time (docs/catalog.md).
    let catalogs: SnapshotBook<CatalogHistory>
    /// The catalog last derived, with the snapshot generation and the span it holds for.
    let catalogCache = Memo<(generation: Int, from: Int64, until: Int64, catalog: Catalog)>()
    /// The commission plans over time (docs/revenue-share.md, "Plans"): the network's — the stored
    /// plan, or the `--rules` file as a plan of one version while none is stored — and partners' own.
    let plans: SnapshotBook<PlanSet>
    /// The revenue-share rules for `GET /v1/reports/statements`.
    public let rules: RuleSet
    public let clock: any WallClock
    /// The withdrawal period per market.
    public let withdrawal: WithdrawalPolicy
    /// Free trials a vehicle may have of one feature, ever (`fod serve --trials-per-feature`; 0: none).
    public let trialsPerFeature: Int
    /// The OEM's data for its credit notes (`nil`: periods cannot be closed).
    public let issuerProfile: IssuerProfile?
    /// The first month to close (`--first-period`); `nil`: the month of the first recorded sale.
    public let firstPeriod: String?
    /// The bounds on objection adjustments.
    public let adjustments: AdjustmentPolicy
    /// Whether what takes four eyes in the back office is refused through the API too: a plan
    /// version, an adjustment above the four-eyes amount (`fod serve --four-eyes-only`).
    public let fourEyesOnly: Bool
    /// How webhooks are delivered and which URLs may subscribe.
    public let webhooks: WebhookPolicy
    /// Prometheus metrics for `/metrics`.
    public let metrics: ServiceMetrics
    /// Set once shutdown begins (readiness fails from then on).
    public let drain = DrainState()
    /// The dealer page's month summaries, by the ledger position they were computed at.
    let monthSummaries = MonthSummaryCache()
    /// The last readiness check, reused for a second.
    let readiness = ReadinessCache()
    /// How quotes are made and credited.
    public let quotes: QuotePolicy
    /// Lookups of quotes by code that missed, per key (guessing is rate-limited).
    let quoteCodeMisses: KeyedRateLimit
    /// Attested time for anyone: 1,000 signatures a second per instance, in bursts of up to 2,000.
    let timeRequests = TokenBucket(perSecond: 1_000, burst: 2_000)

    /// Revoked ids in memory for the verifier (see ``RevocationCache``).
    let revocations: RevocationCache
    /// Group commit of activations.
    let activations: Batcher<ActivationRecord, RecordedActivation>
    /// Group commit of new manifest versions.
    let manifestVersions: Batcher<ManifestVersionRequest, ManifestVersion>
    /// Builds, versions and signs manifests.
    let manifests: ManifestService

    /// The sign-in form's CSRF key, the same on every instance of the database.
    let loginCSRFKey: [UInt8]
    /// The back office's identity provider (`nil`: people sign in with an API key of a staff role).
    public let oidc: OIDCSettings?
    /// Talks to it.
    let oidcClient: OIDCClient?
    /// Sign-ins completed on this instance (a second completion is a replay).
    let usedSignInStates = UsedStates()

    /// Creates the services; the verifier trusts exactly the published keys.
    /// - Parameters:
    ///   - manifestLifetime: seconds from a manifest's issue to its `exp`.
    ///   - withdrawal: the withdrawal period per market (`POST /v1/entitlements/{id}/withdraw`).
    ///   - trialsPerFeature: free trials per vehicle and feature, ever (0: no trials).
    ///   - adjustments: the bounds on objection adjustments (default: 1,000,000 whole units each).
    ///   - fourEyesOnly: refuse through the API what takes four eyes in the back office.
    /// - Throws: ``StoreError`` when the revoked ids or the shared secrets cannot be loaded.
    public init(store: any EntitlementStore, signing: SigningKeys, catalog: Catalog, rules: RuleSet, clock: any WallClock,
                metrics: ServiceMetrics = ServiceMetrics(), manifestLifetime: Int64 = 7 * 86_400,
                withdrawal: WithdrawalPolicy = WithdrawalPolicy(), trialsPerFeature: Int = 1, issuerProfile: IssuerProfile? = nil,
                webhooks: WebhookPolicy = WebhookPolicy(), adjustments: AdjustmentPolicy? = nil, firstPeriod: String? = nil,
                quotes: QuotePolicy? = nil, oidc: OIDCSettings? = nil, fourEyesOnly: Bool = false) async throws {
        self.fourEyesOnly = fourEyesOnly
        let quotes = try quotes ?? QuotePolicy()
        self.oidc = oidc
        self.oidcClient = oidc.map { OIDCClient(settings: $0) }
        self.quotes = quotes
        self.quoteCodeMisses = KeyedRateLimit(perSecond: 1 / quotes.codeMissInterval, burst: quotes.codeMissBurst)
        self.firstPeriod = firstPeriod
        self.adjustments = try adjustments ?? AdjustmentPolicy()
        self.issuerProfile = issuerProfile
        self.webhooks = webhooks
        self.withdrawal = withdrawal
        self.trialsPerFeature = trialsPerFeature
        self.metrics = metrics
        self.store = store
        self.signing = signing
        self.revocations = RevocationCache(store: store, clock: clock, revoked: try await store.revokedIDs(since: Int64.min))
        self.loginCSRFKey = try await store.sharedSecret("dealer-login-csrf")
        self.activations = Batcher(clock: { clock.unixSeconds() },
                                   call: { try await store.recordActivations($0) }) { took, failed in
            metrics.activationCommit(took: took, failed: failed)
        }
        let manifestVersions = Batcher<ManifestVersionRequest, ManifestVersion>(clock: { clock.unixSeconds() }, call: { group in
            let (requests, now) = group.take()
            return try await store.manifestVersions(requests, at: now).map { .success($0) }
        })
        self.manifestVersions = manifestVersions
        self.manifests = ManifestService(store: store, versions: manifestVersions, signing: signing, clock: clock, lifetime: manifestLifetime)
        let base = CatalogHistory(versions: [CatalogVersion(label: catalog.version, effectiveAt: 0, catalog: catalog)])
        self.catalogs = try await SnapshotBook {
            let history = try await store.catalogHistory()
            return history.versions.isEmpty ? base : history
        }
        self.plans = try await SnapshotBook { try await store.planSet(base: rules) }
        self.rules = rules
        self.clock = clock
    }
}

extension FoDServices {
    /// The published keys.
    public var keys: KeySet { signing.published }

    /// The verifier for the published keys and the revocations.
    public var verifier: Verifier { Verifier(keys: signing.published, issuer: signing.issuerID, clock: clock, revocations: revocations) }

    /// The issuer signing `type` now.
    /// - Throws: ``APIError`` 503 `no_signing_key` when no key the service holds may sign it now.
    public func signer(_ type: TokenType) throws -> Issuer { try signing.requireSigner(for: type) }

    /// Verifies an entitlement token as `POST /v1/verify` does: against the published keys, and
    /// against the revocations, read again first when due (from every instance on the database).
    /// - Throws: ``EntitlementError`` (the token's failure), ``StoreError`` when the revocations
    ///   cannot be read (fail closed).
    public func verifyEntitlement(_ token: String, vin: VIN? = nil) async throws -> EntitlementClaims {
        try await revocations.refreshIfDue()
        return try verifier.verifyEntitlement(token, vin: vin)
    }

    /// What is sold now: the catalog version in force, campaign prices, retirements.
    public var catalog: Catalog { catalog(at: clock.unixSeconds()) }

    /// What is sold at `instant`: computed once per snapshot and span between two boundaries
    /// (a version, a campaign's start or end, a retirement), not per request.
    public func catalog(at instant: Int64) -> Catalog {
        let (history, generation) = catalogs.versioned()
        if let hit = catalogCache.value.withLock({ $0 }), hit.generation == generation, hit.from <= instant, instant < hit.until { return hit.catalog }
        let catalog = history.catalog(at: instant)
        let span = history.span(around: instant)
        catalogCache.value.withLock { $0 = (generation, span.from, span.until, catalog) }
        return catalog
    }

    /// The commission plans as last read.
    public var plan: PlanSet { plans.current() }

    /// Every catalog feature for `vehicle`: bookable with its prices, or refused with the rule —
    /// `already_active` for what its `entitlements` hold active at `now`.
    func offers(for vehicle: Vehicle, entitlements: [StoredEntitlement], now: Int64) -> [Offer] {
        var active: [FeatureCode: Int64?] = [:]
        for entitlement in entitlements where entitlement.isActive(at: now) {
            active[entitlement.claims.feature] = .some(entitlement.claims.expiresAt)
        }
        return catalog(at: now).offers(for: vehicle, active: active, now: now)
    }

    /// The catalog feature and its price for `vehicle`'s market and `term`: what may be signed for it.
    /// - Throws: ``APIError`` `feature_unknown` (404) or `term_not_offered` (422).
    func offered(_ code: FeatureCode, _ term: Term, for vehicle: Vehicle, in catalog: Catalog? = nil) throws -> (feature: CatalogFeature, price: Price) {
        guard let feature = (catalog ?? self.catalog).feature(code) else {
            throw APIError(.notFound, "feature_unknown", "\(code) is not in the catalog")
        }
        guard let price = feature.price(market: vehicle.market, term: term) else {
            throw APIError(.unprocessableContent, "term_not_offered", "\(feature.name) is not offered for \(term) in \(vehicle.market)")
        }
        return (feature, price)
    }

    /// The registered vehicle with this VIN.
    /// - Throws: ``APIError`` 404 `vehicle_not_found`, worded for the person at the counter.
    func registeredVehicle(_ vin: VIN) async throws -> Vehicle {
        try registered(try await store.vehicle(vin), vin)
    }

    /// The registered vehicle and its entitlements, in one trip to the store.
    /// - Throws: ``APIError`` 404 `vehicle_not_found`.
    func vehicleWithEntitlements(_ vin: VIN) async throws -> (Vehicle, [StoredEntitlement]) {
        guard let read = try await store.vehicleWithEntitlements(vin) else { throw FoDServices.notRegistered(vin) }
        return (read.vehicle, read.entitlements)
    }

    /// The vehicle read for `vin`, which must be registered.
    /// - Throws: ``APIError`` 404 `vehicle_not_found`.
    func registered(_ vehicle: Vehicle?, _ vin: VIN) throws -> Vehicle {
        guard let vehicle else { throw FoDServices.notRegistered(vin) }
        return vehicle
    }

    /// 404 `vehicle_not_found`, worded for the person at the counter.
    static func notRegistered(_ vin: VIN) -> APIError { APIError(.notFound, "vehicle_not_found", "This VIN is not registered: \(vin)") }
}
