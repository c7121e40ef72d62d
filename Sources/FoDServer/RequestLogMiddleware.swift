import Hummingbird
import Logging

/// One log line per request, without headers (no key is ever logged) and with a quote's short
/// code left out of the path: the code is what a customer shows to have the quote opened, so it
/// stays out of logs as out of events (`/v1/quotes/by-code/…`, the dealer page's `?code=…`).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = FoDRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        context.logger.info("Request", metadata: ["hb.request.method": .string(request.method.rawValue),
                                                  "hb.request.path": .string(RequestLogMiddleware.logged(request.uri.description))])
        return try await next(request, context)
    }

    /// The path and query as logged: a quote code replaced by `…`.
    static func logged(_ uri: String) -> String {
        let prefix = "/v1/quotes/by-code/"
        if uri.hasPrefix(prefix) { return prefix + "…" }
        guard let query = uri.firstIndex(of: "?"), uri[query...].contains("code=") else { return uri }
        let parameters = uri[uri.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
            parameter.hasPrefix("code=") ? "code=…" : String(parameter)
        }
        return String(uri[..<query]) + "?" + parameters.joined(separator: "&")
    }
}
