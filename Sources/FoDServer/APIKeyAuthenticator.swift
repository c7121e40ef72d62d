import FoDStore
import HTTPTypes
import Hummingbird
import Logging

/// Authenticates `Authorization: Bearer <api key>` against the stored key hashes. Routes that
/// need a role check it with ``FoDRequestContext/require(_:)``. Failures never log the key.
struct APIKeyAuthenticator: RouterMiddleware {
    typealias Context = FoDRequestContext
    let database: FoDDatabase

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "), let principal = try database.authenticate(secret: String(header.dropFirst(7))) else {
                context.logger.info("authentication failed", metadata: ["path": .string(request.uri.path)])
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
