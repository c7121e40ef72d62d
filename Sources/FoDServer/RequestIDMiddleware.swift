import FoDCore
import HTTPTypes
import Hummingbird
import Logging

/// Correlates a request across systems: the caller's `X-Request-Id` (1–64 visible characters) or
/// Hummingbird's own request id goes into every log line of the request (`request_id`) and back in
/// the `X-Request-Id` header of the answer, errors included.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = FoDRequestContext
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[RequestIDMiddleware.header].flatMap(RequestIDMiddleware.valid) ?? context.id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do { response = try await next(request, context) } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[RequestIDMiddleware.header] = id
        return response
    }

    /// A caller's id if it is 1–64 visible ASCII characters (it lands in logs), else `nil`.
    static func valid(_ text: String) -> String? { VisibleToken.isValid(text, maxLength: 64) ? text : nil }
}
