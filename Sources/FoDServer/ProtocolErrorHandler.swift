import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP decoder cannot parse (a head over the size limits, broken chunked
/// framing, garbage) with a problem document like every other refusal, instead of the bare empty
/// 400 the server would write, and closes the connection.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

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
