import FoDAPI
import FoDEntitlements
import FoDQRCode
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Quotes (``QuoteFlow``, docs/journeys.md): made by the OEM's shop, app or car (issuer keys) and
/// at a site's counter (dealer keys), opened at any touchpoint by id or short code, accepted once.
struct QuoteRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer))
            .post("/v1/quotes", use: make)
            .post("/v1/quotes/{id}/accept", use: accept)
            .post("/v1/quotes/{id}/cancel", use: cancel)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer, .auditor))
            .get("/v1/quotes/by-code/{code}", use: byCode)
            .get("/v1/quotes/{id}", use: read)
            .get("/v1/quotes/{id}/qr", use: qr)
            .get("/v1/vehicles/{vin}/quotes", use: ofVehicle)
        return routes
    }

    @Sendable func make(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(QuoteRequest.self, request, context)
        let flow = QuoteFlow(services: services)
        let quote = try await flow.make(body, principal: principal)
        return try APIResponseEncoder.response(ByteBuffer(bytes: APIResponseEncoder.bytes(flow.response(quote, bookings: []))), status: .created,
                                               headers: [.location: "/v1/quotes/\(quote.id)"])
    }

    @Sendable func read(_ request: Request, _ context: FoDRequestContext) async throws -> QuoteResponse {
        let flow = QuoteFlow(services: services)
        return try await flow.answer(try await flow.visible(context.path("id"), principal: try context.caller()))
    }

    @Sendable func byCode(_ request: Request, _ context: FoDRequestContext) async throws -> QuoteResponse {
        let flow = QuoteFlow(services: services)
        return try await flow.answer(try await flow.byCode(context.path("code"), principal: try context.caller()))
    }

    /// `POST /v1/quotes/{id}/accept`: `Idempotency-Key` is required; the same acceptance again answers the first answer.
    @Sendable func accept(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        guard let key = request.headers[ActivationRoutes.idempotencyHeader], ActivationRoutes.isValidKey(key) else {
            throw APIError(.badRequest, "idempotency_key_required", "POST /v1/quotes/{id}/accept needs an Idempotency-Key header (1–128 visible characters)")
        }
        let (body, _) = try await RequestBody.decode(QuoteAcceptRequest.self, request, context, whenEmpty: QuoteAcceptRequest())
        let outcome = try await QuoteFlow(services: services).accept(context.path("id"), body, principal: principal, idempotencyKey: key)
        var headers: HTTPFields = [:]
        if !outcome.created { headers[ActivationRoutes.replayedHeader] = "true" }
        return APIResponseEncoder.response(ByteBuffer(bytes: outcome.response.body), status: .init(code: outcome.response.status), headers: headers)
    }

    @Sendable func cancel(_ request: Request, _ context: FoDRequestContext) async throws -> QuoteResponse {
        let flow = QuoteFlow(services: services)
        return try await flow.answer(try await flow.cancel(context.path("id"), principal: try context.caller()))
    }

    /// The QR code of the dealer page's address that opens the quote (SVG): what the app, the web
    /// shop or the car's screen shows for a customer to take to a dealer.
    @Sendable func qr(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let quote = try await QuoteFlow(services: services).visible(context.path("id"), principal: try context.caller())
        let link = services.quotes.dealerPage(code: quote.code)
        let svg = try QRCode(text: link, errorCorrection: .medium).svg(label: "Quote \(QuoteCode.display(quote.code))")
        var headers = HTTPFields()
        headers[.contentType] = "image/svg+xml"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: svg)))
    }

    @Sendable func ofVehicle(_ request: Request, _ context: FoDRequestContext) async throws -> QuotesResponse {
        let flow = QuoteFlow(services: services)
        let quotes = try await flow.openQuotes(try PathParameters.vin(context), principal: try context.caller())
        return QuotesResponse(quotes: quotes.map { flow.response($0, bookings: []) })
    }
}
