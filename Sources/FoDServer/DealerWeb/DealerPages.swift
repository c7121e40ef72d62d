import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The dealer page's templates (`Templates/*.mustache`, rendered server-side) and stylesheet.
struct DealerPages: Sendable {
    let library: MustacheLibrary
    let stylesheet: [UInt8]

    /// Loads the templates shipped with the module.
    /// - Throws: when a template is missing or does not parse (a packaging error, found at start-up).
    init() throws {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw APIError(.internalServerError, "templates_missing", "the dealer page templates are not installed")
        }
        var library = MustacheLibrary()
        for name in ["top", "bottom", "vinform", "login", "home", "vehicle", "confirm", "result", "error", "creditnote", "quote",
                     "admin_top", "admin_login", "admin_home", "admin_vehicle", "admin_error", "admin_proposals", "admin_audit", "admin_webhooks", "admin_webhook", "admin_master", "admin_periods", "admin_period", "admin_rehearsal", "admin_plan_preview"] {
            let text = try String(contentsOf: folder.appendingPathComponent("\(name).mustache"), encoding: .utf8)
            try library.register(text, named: name)
        }
        self.library = library
        stylesheet = Array(try Data(contentsOf: folder.appendingPathComponent("style.css")))
    }

    /// A rendered page.
    func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        let html = library.render(values, withTemplate: template) ?? ""
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[DealerPages.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[DealerPages.frameOptions] = "DENY"
        headers[DealerPages.contentTypeOptions] = "nosniff"
        headers[DealerPages.referrerPolicy] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 to `location` (after a form post, so reloading does not post again).
    /// The stylesheet, cached five minutes (the dealer page's and the back office's).
    func stylesheetResponse() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/css; charset=utf-8"
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stylesheet)))
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
