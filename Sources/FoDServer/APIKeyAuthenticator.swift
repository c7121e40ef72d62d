import FoDCrypto
import FoDEntitlements
import FoDStore
import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// Authenticates `Authorization: Bearer <api key>` against the stored key hashes (hummingbird-auth's
/// authenticator: the principal becomes the context's `identity`). A request without the header
/// goes on unauthenticated — the route group's ``RoleCheck`` answers 401; a key that is not
/// accepted is 401 at once. Failures never log the key.
struct APIKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = FoDRequestContext
    let store: any EntitlementStore
    let clock: any WallClock
    let metrics: ServiceMetrics
    let cache = PrincipalCache()

    func authenticate(request: Request, context: Context) async throws -> Principal? {
        guard let header = request.headers[.authorization] else { return nil }
        // The scheme is case-insensitive (RFC 9110 §11.1): "bearer", "BEARER" and "Bearer" are the
        // same — hummingbird-auth's `bearer` accepts only "Bearer ", so the header is read here.
        guard header.count > 7, header.prefix(7).lowercased() == "bearer ",
              let principal = try await cache.principal(for: String(header.dropFirst(7)), store: store, at: clock.unixSeconds()) else {
            context.logger.info("authentication failed", metadata: ["path": .string(request.uri.path)])
            metrics.authenticationFailed()
            throw APIError.unauthorized
        }
        return principal
    }
}

/// The role check of a route group (hummingbird-auth's authorization policy): the caller must hold
/// one of the roles (admin may do everything). Without an identity the middleware answers 401.
struct RoleCheck: AuthorizationPolicy {
    let roles: Set<Role>

    func isAuthorized(identity: Principal, request: Request) async throws -> Bool {
        identity.role == .admin || roles.contains(identity.role)
    }

    /// The middleware of a group whose routes need one of `roles`.
    static func require(_ roles: Role...) -> AuthorizationPolicyMiddleware<RoleCheck, FoDRequestContext, APIError> {
        let names = roles.map(\.rawValue).joined(separator: " or ")
        return AuthorizationPolicyMiddleware(RoleCheck(roles: Set(roles)), deniedError: APIError.forbidden("this needs a\(names.first.map { "aeiou".contains($0) } == true ? "n" : "") \(names) key"),
                                             context: FoDRequestContext.self)
    }
}

/// Remembers authenticated keys for ``ttl`` so that a busy client does not cost a database read per
/// request; a revoked key stops working within that time. Keyed by the secret's SHA-256, never
/// the secret. A dealer key whose site closes stops working within that time too.
final class PrincipalCache: Sendable {
    /// At most this long — on this instance or another — between an API key's revocation and its last accepted request.
    static let ttl: Duration = .milliseconds(500)
    /// Expiry on the monotonic clock: a wall clock stepped back must not keep a revoked key working.
    private let entries = Mutex<[String: (principal: Principal, until: ContinuousClock.Instant)]>([:])

    func principal(for secret: String, store: any EntitlementStore, at wallClock: Int64) async throws -> Principal? {
        let hash = SHA256.hexHash(Array(secret.utf8))
        let now = ContinuousClock.now
        if let hit = entries.withLock({ $0[hash] }), hit.until > now { return hit.principal }
        guard let principal = try await store.authenticate(secret: secret, at: wallClock) else {
            entries.withLock { _ = $0.removeValue(forKey: hash) }
            return nil
        }
        entries.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[hash] = (principal, now.advanced(by: PrincipalCache.ttl))
        }
        return principal
    }
}
