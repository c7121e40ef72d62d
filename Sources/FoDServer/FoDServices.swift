import FoDEntitlements
import FoDStore

/// What the routes work with: the database, the signing issuer, the verifier for the published
/// keys, the catalog, and the clock.
public struct FoDServices: Sendable {
    public let database: FoDDatabase
    public let issuer: Issuer
    public let verifier: Verifier
    public let keys: KeySet
    public let catalog: Catalog
    public let clock: any WallClock

    /// Creates the services; the verifier trusts exactly the published keys.
    public init(database: FoDDatabase, issuer: Issuer, publishedKeys: KeySet, catalog: Catalog, clock: any WallClock) {
        self.database = database
        self.issuer = issuer
        self.keys = publishedKeys
        self.verifier = Verifier(keys: publishedKeys, issuer: issuer.issuer, clock: clock)
        self.catalog = catalog
        self.clock = clock
    }
}
