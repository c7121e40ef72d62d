import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP decoder cannot parse (a head over the size limits, broken chunked
/// framing, garbage) with a problem document like every other refusal, instead of the bare empty
/// 400 the server would write, and closes the connection. A request whose `Content-Length`
/// announces more than ``maximumBody`` bytes is answered 413 `body_too_large` as soon as its head
/// arrives (with or without `Expect: 100-continue`): the body is not waited for.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// The largest body any route accepts.
    static let maximumBody = FoDRequestContext.bodyLimit
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a refusal nothing more of this connection is read.
        guard !answered else { return }
        if case .head(let head) = unwrapInboundIn(data), let text = head.headerFields[.contentLength],
           ProtocolErrorHandler.announcesTooMuch(text) {
            answered = true
            refuse(context, .contentTooLarge, "body_too_large", "the request body is larger than \(ProtocolErrorHandler.maximumBody) bytes")
            return
        }
        context.fireChannelRead(data)
    }

    /// Whether a `Content-Length` value announces more than ``maximumBody`` (digits only; one that
    /// does not parse is left to the HTTP parser, which refuses it).
    static func announcesTooMuch(_ text: String) -> Bool {
        let digits = text.utf8
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        guard digits.count <= 18, let value = Int(text) else { return true }
        return value > maximumBody
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let (status, code, detail): (HTTPResponse.Status, String, String) = switch parserError {
        case .headerOverflow: (.requestHeaderFieldsTooLarge, "headers_too_large", "the request head is larger than the server accepts")
        case .invalidChunkSize, .invalidContentLength, .unexpectedContentLength: (.badRequest, "body_malformed", "the request body's framing is broken")
        default: (.badRequest, "request_malformed", "the request is not valid HTTP/1.1")
        }
        refuse(context, status, code, detail)
    }

    /// Writes the problem document with `Connection: close` and closes the connection.
    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, _ code: String, _ detail: String) {
        let body = APIError.document(status, code, detail)
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        fields[.cacheControl] = "no-store"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
