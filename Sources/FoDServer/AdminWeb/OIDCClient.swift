import AsyncHTTPClient
import FoDCrypto
import FoDEntitlements
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Synchronization

/// The back office's side of talking to the identity provider: its discovery document and keys
/// (fetched on first use, kept for an hour; the keys again when a token names one not known), and
/// the code exchange at its token endpoint (`client_secret_basic`, with the PKCE verifier).
final class OIDCClient: Sendable {
    struct Metadata: Sendable {
        let authorizationEndpoint: String
        let tokenEndpoint: String
        let jwksURI: String
    }

    let settings: OIDCSettings
    private let http: HTTPClient
    private let cache = Mutex<(metadata: Metadata, keys: OIDCKeys, at: Int64)?>(nil)

    init(settings: OIDCSettings, http: HTTPClient = .shared) {
        self.settings = settings
        self.http = http
    }

    private func unreachable(_ what: String) -> APIError {
        APIError(.badGateway, "oidc_provider_unreachable", "the identity provider's \(what) could not be read")
    }

    private func get(_ url: String, _ what: String) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            guard response.status == .ok else { throw unreachable(what) }
            var body = try await response.body.collect(upTo: 1 << 20)
            return body.readBytes(length: body.readableBytes) ?? []
        } catch let error as APIError { throw error } catch { throw unreachable(what) }
    }

    /// The endpoints and keys, from the cache when fresh (or when `refresh` is false and they are under an hour old).
    func provider(refresh: Bool = false, now: Int64) async throws -> (metadata: Metadata, keys: OIDCKeys) {
        if !refresh, let cached = cache.withLock({ $0 }), now - cached.at < 3600 { return (cached.metadata, cached.keys) }
        let document = try await get(settings.issuer + "/.well-known/openid-configuration", "discovery document")
        guard case .object(let object)? = try? JSONParser.parse(document),
              let authorization = object["authorization_endpoint"]?.string, let token = object["token_endpoint"]?.string,
              let jwks = object["jwks_uri"]?.string else {
            throw APIError(.badGateway, "oidc_provider_invalid", "the identity provider's discovery document lacks an endpoint")
        }
        guard object["issuer"]?.string == settings.issuer else {
            throw APIError(.badGateway, "oidc_provider_invalid", "the discovery document names another issuer")
        }
        let metadata = Metadata(authorizationEndpoint: authorization, tokenEndpoint: token, jwksURI: jwks)
        let keys = try OIDCKeys(jwks: try await get(jwks, "keys"))
        cache.withLock { $0 = (metadata, keys, now) }
        return (metadata, keys)
    }

    /// Where the browser goes to sign in.
    func authorizationURL(_ pending: PendingSignIn, now: Int64) async throws -> String {
        let metadata = try await provider(now: now).metadata
        let query = [("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", settings.redirectURI),
                     ("scope", "openid profile email"), ("state", pending.state), ("nonce", pending.nonce),
                     ("code_challenge", pending.challenge), ("code_challenge_method", "S256")]
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        return metadata.authorizationEndpoint + separator + query.map { "\($0.0)=\(OIDCClient.encode($0.1))" }.joined(separator: "&")
    }

    /// The ID token for `code`.
    /// - Throws: ``APIError`` `oidc_code_refused` when the provider refuses it.
    func exchange(code: String, verifier: String, now: Int64) async throws -> String {
        let metadata = try await provider(now: now).metadata
        var request = HTTPClientRequest(url: metadata.tokenEndpoint)
        request.method = .POST
        let credentials = Data("\(OIDCClient.encode(settings.clientID)):\(OIDCClient.encode(settings.clientSecret))".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", settings.redirectURI), ("code_verifier", verifier)]
        request.body = .bytes(ByteBuffer(string: form.map { "\($0.0)=\(OIDCClient.encode($0.1))" }.joined(separator: "&")))
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: .seconds(10)) } catch { throw unreachable("token endpoint") }
        var body = try await response.body.collect(upTo: 1 << 20)
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        guard response.status == .ok, case .object(let object)? = try? JSONParser.parse(bytes), let token = object["id_token"]?.string else {
            throw APIError(.unauthorized, "oidc_code_refused", "the identity provider did not exchange the code (HTTP \(response.status.code))")
        }
        return token
    }

    /// `application/x-www-form-urlencoded` / query encoding: RFC 3986's unreserved characters as
    /// they are, every other byte of the UTF-8 percent-encoded (Foundation's encoder).
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
