import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each route path answers, so that a known path asked with another method gets
/// 405 with `Allow` (RFC 9110 §15.5.6) instead of 404. Filled once the routes are registered.
final class MethodTable: Sendable {
    private let entries = Mutex<[(segments: [String?], methods: Set<String>)]>([])

    /// Takes the router's routes (`{name}` and `:name` segments match any one segment).
    func load(_ routes: [(path: String, method: String)]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        let list = byPath.map { path, methods -> (segments: [String?], methods: Set<String>) in
            let segments = path.split(separator: "/").map { part -> String? in
                part.hasPrefix(":") || part.hasPrefix("{") ? nil : String(part)
            }
            // Every GET route also answers HEAD (HeadResponder).
            return (segments, methods.contains("GET") ? methods.union(["HEAD"]) : methods)
        }
        entries.withLock { $0 = list }
    }

    /// The methods of the routes whose path matches `path`, empty for an unknown path.
    func methods(for path: String) -> Set<String> {
        let parts = path.split(separator: "/").map(String.init)
        return entries.withLock { entries in
            entries.filter { entry in
                entry.segments.count == parts.count && zip(entry.segments, parts).allSatisfy { $0 == nil || $0 == $1 }
            }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        }
    }
}

/// `HEAD` for every `GET` route (RFC 9110 §9.3.2): the request is routed as GET — through every
/// middleware, so it is authenticated, logged and counted — and answered without the body.
struct HeadResponder<Base: HTTPResponder>: HTTPResponder {
    let base: Base

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        if let length = response.body.contentLength { response.headers[.contentLength] = String(length) }
        response.body = .init()
        return response
    }
}
