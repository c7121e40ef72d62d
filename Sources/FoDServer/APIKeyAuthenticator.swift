import FoDCrypto
import FoDStore
import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import Logging

/// Authenticates `Authorization: Bearer <api key>` against the stored key hashes. Routes that
/// need a role check it with ``FoDRequestContext/require(_:)``. Failures never log the key.
struct APIKeyAuthenticator: RouterMiddleware {
    typealias Context = FoDRequestContext
    let database: any AccessStore
    let metrics: ServiceMetrics
    let cache = PrincipalCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            // The scheme is case-insensitive (RFC 9110 §11.1): "bearer", "BEARER" and "Bearer" are the same.
            guard header.count > 7, header.prefix(7).lowercased() == "bearer ",
                  let principal = try cache.principal(for: String(header.dropFirst(7)), database: database) else {
                context.logger.info("authentication failed", metadata: ["path": .string(request.uri.path)])
                metrics.authenticationFailed()
                throw APIError.unauthorized
            }
            context.principal = principal
        }
        return try await next(request, context)
    }
}

extension FoDRequestContext {
    /// The caller, who must have one of `roles` (admin may do everything).
    /// - Throws: ``APIError`` 401 without a key, 403 for another role.
    func require(_ roles: Role...) throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        guard principal.role == .admin || roles.contains(principal.role) else {
            logger.info("forbidden", metadata: ["role": .string(principal.role.rawValue), "key": .string(principal.keyID)])
            throw APIError.forbidden("a \(principal.role) key may not do this (needs \(roles.map(\.rawValue).joined(separator: " or ")))")
        }
        return principal
    }
}

/// Remembers authenticated keys for ``ttl`` so that a busy client does not cost a database read per
/// request; a revoked key stops working within that time. Keyed by the secret's SHA-256, never
/// the secret.
final class PrincipalCache: Sendable {
    static let ttl: TimeInterval = 2
    private let entries = Mutex<[String: (principal: Principal, until: Date)]>([:])

    func principal(for secret: String, database: any AccessStore) throws -> Principal? {
        let hash = SHA256.hexHash(Array(secret.utf8))
        let now = Date()
        if let hit = entries.withLock({ $0[hash] }), hit.until > now { return hit.principal }
        guard let principal = try database.authenticate(secret: secret) else {
            entries.withLock { _ = $0.removeValue(forKey: hash) }
            return nil
        }
        entries.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[hash] = (principal, now.addingTimeInterval(PrincipalCache.ttl))
        }
        return principal
    }
}
