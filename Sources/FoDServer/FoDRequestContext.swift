import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// The request context of fod's routes: who is calling, once authenticated (hummingbird-auth's
/// `identity`, set by ``APIKeyAuthenticator``).
public struct FoDRequestContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller.
    public var identity: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// Request bodies are small JSON documents.
    public var maxUploadSize: Int { FoDRequestContext.bodyLimit }

    /// The largest request body any route takes (also refused at the head: ``ProtocolErrorHandler``).
    static let bodyLimit = 64 * 1024

    /// Answers are fod's JSON (``APIResponseEncoder``).
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }

    /// The caller, if authenticated.
    public var principal: Principal? { identity }

    /// The authenticated caller; the route's group has already checked the role.
    /// - Throws: ``APIError`` 401 without a key.
    func caller() throws -> Principal {
        guard let identity else { throw APIError.unauthorized }
        return identity
    }

    /// A path parameter, percent-decoded (`%57AUZZZ…` is `WAUZZZ…`); "" when absent.
    func path(_ name: String) -> String {
        let raw = parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}
