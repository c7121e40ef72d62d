import Foundation
import HTTPTypes
#if canImport(Glibc)
import Glibc
#endif

/// A subscriber's URL, checked against server-side request forgery: `https://` with a host name
/// or a public address; no credentials; no loopback, private (RFC 1918, CGNAT), link-local,
/// unique-local, multicast or unspecified address — by literal at subscription, and by every
/// address the name resolves to before each claim of its events (the connection then goes to
/// the address checked) — unless the operator allows them.
public enum WebhookURL {
    /// Checks the URL's form.
    /// - Throws: ``APIError`` 422 `webhook_url_invalid`.
    public static func check(_ text: String, allowPrivate: Bool) throws -> URL {
        guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
              url.user == nil, url.password == nil, url.fragment == nil else {
            throw APIError(.unprocessableContent, "webhook_url_invalid", "url must be an absolute https:// URL without credentials or fragment (at most 2048 characters)")
        }
        guard scheme == "https" || (allowPrivate && scheme == "http") else {
            throw APIError(.unprocessableContent, "webhook_url_invalid", "url must be https:// (http:// only with fod serve --webhooks-allow-private)")
        }
        if !allowPrivate {
            let lower = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if lower == "localhost" || lower.hasSuffix(".localhost") || lower.hasSuffix(".local") || lower.hasSuffix(".internal") {
                throw APIError(.unprocessableContent, "webhook_url_private", "\(host) is a local name; allow it with --webhooks-allow-private")
            }
            if let address = IPAddress(lower), !address.isPublic {
                throw APIError(.unprocessableContent, "webhook_url_private", "\(host) is not a public address; allow it with --webhooks-allow-private")
            }
        }
        return url
    }

    /// Resolves the host (blocking: on the pool) and refuses it when any address is not public
    /// (unless `allowPrivate`).
    /// - Returns: the address to connect to — the connection is pinned to it, so the name is not
    ///   looked up a second time between the check and the connection (DNS rebinding); `nil` for
    ///   an address literal.
    /// - Throws: ``APIError`` `webhook_url_private` or `webhook_host_unknown`.
    static func checkResolved(_ host: String, allowPrivate: Bool, resolve: WebhookResolver = WebhookURL.systemResolve) throws -> String? {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if let literal = IPAddress(bare) {
            guard allowPrivate || literal.isPublic else { throw APIError(.unprocessableContent, "webhook_url_private", "\(host) is not a public address") }
            return nil
        }
        let addresses = try resolve(bare)
        guard let first = addresses.first else { throw APIError(.unprocessableContent, "webhook_host_unknown", "\(host) does not resolve") }
        if !allowPrivate, addresses.contains(where: { !(IPAddress($0)?.isPublic ?? false) }) {
            throw APIError(.unprocessableContent, "webhook_url_private", "\(host) resolves to an address that is not public")
        }
        return first
    }

    /// The system resolver (`getaddrinfo`): the name's addresses as text, none when it does not resolve.
    public static let systemResolve: WebhookResolver = { name in
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            if let text = IPAddress(current.pointee.ai_addr)?.text, !out.contains(text) { out.append(text) }
            node = current.pointee.ai_next
        }
        return out
    }
}

/// Resolves a host name to its addresses, as text (blocking).
public typealias WebhookResolver = @Sendable (String) throws -> [String]

/// An IPv4 or IPv6 address, to tell public from local ones.
struct IPAddress {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    init?(_ address: UnsafeMutablePointer<sockaddr>?) {
        guard let address else { return nil }
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) } }
        case AF_INET6:
            bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) } }
        default: return nil
        }
    }

    /// Not loopback, private, shared (CGNAT), link-local, unique-local, multicast, reserved or unspecified.
    var isPublic: Bool {
        if bytes.count == 16 {
            // IPv4-mapped and -compatible addresses are judged as IPv4.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && ((bytes[10] == 0xff && bytes[11] == 0xff) || (bytes[10] == 0 && bytes[11] == 0)) {
                if bytes[10] == 0, bytes[12..<16].allSatisfy({ $0 == 0 }) || bytes[12..<15].allSatisfy({ $0 == 0 }) { return false }  // :: and ::1
                return IPAddress(v4: Array(bytes[12..<16])).isPublic
            }
            if bytes[0] == 0xff { return false }                       // multicast
            if bytes[0] & 0xfe == 0xfc { return false }                 // fc00::/7 unique local
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return false } // fe80::/10 link local
            if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8 { return false } // documentation
            if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b { return false } // NAT64
            return true
        }
        let a = bytes[0], b = bytes[1]
        switch a {
        case 0, 10, 127: return false
        case 100 where b & 0xc0 == 64: return false                   // 100.64/10
        case 169 where b == 254: return false
        case 172 where b & 0xf0 == 16: return false
        case 192 where b == 168: return false
        case 192 where b == 0 && bytes[2] == 0: return false
        case 198 where b & 0xfe == 18: return false                   // benchmarking
        case 224...255: return false                                  // multicast, reserved, broadcast
        default: return true
        }
    }

    private init(v4: [UInt8]) { bytes = v4 }

    /// The address as text (`inet_ntop`).
    var text: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = bytes
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(cString: buffer)
    }
}
