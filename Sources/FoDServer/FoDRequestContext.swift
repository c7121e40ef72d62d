import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The request context of fod's routes: who is calling, once authenticated.
public struct FoDRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller, set by ``APIKeyAuthenticator``.
    public var principal: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// Request bodies are small JSON documents.
    public var maxUploadSize: Int { 64 * 1024 }

    /// A path parameter, percent-decoded (`%57AUZZZ…` is `WAUZZZ…`); "" when absent.
    func path(_ name: String) -> String {
        let raw = parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}
