import AsyncAlgorithms
import FoDAPI
import FoDCore
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// A month's statements, and the events export `fod report` reads.
struct ReportRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.auditor, .dealer)).get("/v1/reports/statements") { request, context in
            StatementsResponse(try await scopedReport(request, context, reading: "statements"))
        }
        routes.group().add(middleware: RoleCheck.require(.auditor)).get("/v1/exports/events", use: export)
        return routes
    }

    @Sendable func export(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let from = try ReportRoutes.instant(request.uri.queryParameters.get("from"), "from")
        let to = try ReportRoutes.instant(request.uri.queryParameters.get("to"), "to")
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // Streamed block by block as the store reads them, with backpressure (the store reads the
        // next block once the client took the last): the whole history is never in memory.
        let store = services.store
        let blocks = AsyncThrowingChannel<[UInt8], any Error>()
        let producer = Task {
            do {
                try await store.exportEvents(from: from, to: to, dealer: nil) { block in await blocks.send(block) }
                blocks.finish()
            } catch {
                blocks.fail(error)
            }
        }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                for try await block in blocks { try await writer.write(ByteBuffer(bytes: block)) }
                try await writer.finish(nil)
            } catch {
                producer.cancel()
                throw error
            }
        })
    }

    /// The `?period=` month's report for an auditor (all dealers, or `?dealer=`) or a dealer key
    /// (its own dealer only; another dealer's id is 403).
    func scopedReport(_ request: Request, _ context: FoDRequestContext, reading what: String) async throws -> Report {
        let principal = try context.caller()
        guard let period = request.uri.queryParameters.get("period") else {
            throw APIError(.badRequest, "period_required", "give ?period=YYYY-MM")
        }
        // Query parameters that do not parse are 400 query_invalid, as for every query.
        do { _ = try ReportPeriod(String(period)) } catch let error as RevenueError {
            throw APIError(.badRequest, "query_invalid", error.reason)
        }
        let asked = request.uri.queryParameters.get("dealer").map { String($0) }
        if principal.role == .dealer, let asked, asked != principal.dealer?.value {
            throw APIError.forbidden("a dealer key reads only its own \(what)")
        }
        let dealer: DealerID?
        do { dealer = principal.role == .dealer ? principal.dealer : try asked.map { try DealerID($0) } } catch let error as EntitlementError {
            throw APIError(.badRequest, "query_invalid", "dealer: \(error.reason)")
        }
        return try await StatementsReport.run(services: services, period: String(period), dealer: dealer)
    }

    /// An RFC 3339 query parameter as Unix seconds.
    /// - Throws: ``APIError`` 400 `query_invalid`.
    static func instant(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        do { return try Instant(rfc3339: String(text)).unixSeconds } catch {
            throw APIError(.badRequest, "query_invalid", "\(name) must be an RFC 3339 timestamp")
        }
    }
}
