import FoDCrypto
import FoDEntitlements
import FoDStore
import HTTPTypes
import Synchronization

/// Completes a sign-in when the browser comes back from the provider (OpenID Connect Core §3.1):
/// the `state` must be the pending sign-in's, and only once; the code is exchanged (with the PKCE
/// verifier) for an ID token, which must verify with this sign-in's nonce; the person must hold a
/// role. Every refusal has its code and signs nobody in.
struct OIDCSignIn: Sendable {
    let settings: OIDCSettings
    /// Exchanges a code (with the PKCE verifier) for the ID token; throws when the provider refuses.
    let exchange: @Sendable (_ code: String, _ verifier: String) async throws -> String
    /// The provider's keys; `refresh` asks the provider again (a key it has rotated in).
    let keys: @Sendable (_ refresh: Bool) async throws -> OIDCKeys
    let usedStates: UsedStates

    /// The person and the roles they sign in with.
    /// - Throws: ``APIError`` 401 `oidc_sign_in_expired`, `oidc_state_mismatch`, `oidc_state_used`,
    ///   `oidc_provider_error`, `oidc_code_refused`, the ID token's `oidc_*` codes; 403 `oidc_no_role`.
    func complete(code: String?, state: String?, error: String?, pending: PendingSignIn?, now: Int64) async throws -> (IDTokenClaims, [Role]) {
        guard let pending else { throw APIError(.unauthorized, "oidc_sign_in_expired", "the sign-in was not started here, or took over ten minutes") }
        guard let state, HMACSHA256.equal(Array(state.utf8), Array(pending.state.utf8)) else {
            throw APIError(.unauthorized, "oidc_state_mismatch", "the answer is not for the sign-in this browser started")
        }
        guard usedStates.use(state, until: pending.expiresAt, now: now) else {
            throw APIError(.unauthorized, "oidc_state_used", "this sign-in was completed already")
        }
        if let error { throw APIError(.unauthorized, "oidc_provider_error", "the identity provider answered \(error.prefix(100))") }
        guard let code, !code.isEmpty, code.utf8.count <= 2048 else { throw APIError(.unauthorized, "oidc_code_refused", "the answer has no code") }
        let token: String
        do { token = try await exchange(code, pending.verifier) } catch let error as APIError where error.code == "oidc_provider_unreachable" {
            throw error
        } catch {
            throw APIError(.unauthorized, "oidc_code_refused", "the identity provider did not exchange the code (used already, or expired)")
        }
        var claims: IDTokenClaims
        do {
            claims = try verifier(try await keys(false)).verify(token, nonce: pending.nonce, now: now)
        } catch let error as APIError where error.code == "oidc_key_unknown" {
            claims = try verifier(try await keys(true)).verify(token, nonce: pending.nonce, now: now)
        }
        let roles = settings.roles(claims.groups)
        guard !roles.isEmpty else {
            throw APIError(.forbidden, "oidc_no_role", "\(claims.name ?? claims.subject) holds no role of the back office (\(settings.rolesClaim): \(claims.groups.prefix(10).joined(separator: ", ")))")
        }
        return (claims, roles)
    }

    private func verifier(_ keys: OIDCKeys) -> IDTokenVerifier {
        IDTokenVerifier(issuer: settings.issuer, clientID: settings.clientID, keys: keys, rolesClaim: settings.rolesClaim)
    }
}

/// The states of completed sign-ins on this instance, kept until their sign-in would have expired:
/// a second use of one is a replay.
final class UsedStates: Sendable {
    private let states = Mutex<[String: Int64]>([:])

    /// Marks `state` used; `false` when it was already.
    func use(_ state: String, until end: Int64, now: Int64) -> Bool {
        states.withLock { states in
            if states.count > 10_000 { states = states.filter { $0.value > now } }
            if let known = states[state], known > now { return false }
            states[state] = end
            return true
        }
    }
}
