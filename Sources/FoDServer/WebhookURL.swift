import FoDStore
import Foundation
import HTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A subscriber's URL, checked against server-side request forgery: `https://` with a host name
/// or a public address; no credentials; no address the IANA special-purpose registries call not
/// globally reachable (``IPAddress/isPublic``) — by literal at subscription, and by every
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

    /// How long a resolution may take before the address counts as not resolving.
    static let resolveTimeout: Duration = .seconds(5)
    /// How many resolutions may wait at once; more are refused at once (the lane is bounded).
    static let resolveQueue = 16
    private static let waiting = Atomic<Int>(0)

    /// ``checkResolved(_:allowPrivate:resolve:)`` on the resolver's own lane, bounded in time and
    /// in how many wait: a slow resolver holds up neither the API's lane nor its caller for long.
    /// - Throws: as ``checkResolved(_:allowPrivate:resolve:)``; `webhook_host_unknown` when the
    ///   resolution takes longer than ``resolveTimeout`` or too many are waiting.
    static func checkResolvedInTime(_ host: String, allowPrivate: Bool, resolve: @escaping WebhookResolver) async throws -> String? {
        guard waiting.add(1, ordering: .relaxed).newValue <= resolveQueue else {
            waiting.subtract(1, ordering: .relaxed)
            throw APIError(.unprocessableContent, "webhook_host_unknown", "\(host) could not be resolved now (the resolver is busy); try again")
        }
        let task = Task { () throws -> String? in
            defer { waiting.subtract(1, ordering: .relaxed) }
            return try await BlockingPool.run(.resolve) { try WebhookURL.checkResolved(host, allowPrivate: allowPrivate, resolve: resolve) }
        }
        enum Outcome: Sendable { case resolved(String?), timedOut }
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { .resolved(try await task.value) }
            group.addTask {
                try await Task.sleep(for: resolveTimeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            guard case .resolved(let address) = try await group.next() else {
                throw APIError(.unprocessableContent, "webhook_host_unknown", "\(host) did not resolve within \(resolveTimeout)")
            }
            return address
        }
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

    /// Whether a connection to it reaches the public internet, by the IANA special-purpose
    /// address registries (RFC 6890 and its updates): an address whose entry is not globally
    /// reachable (loopback, private, shared, link-local, documentation, benchmarking, reserved,
    /// multicast, unique-local, discard, SRv6, deprecated site-local and 6to4 relay) is not. IPv6
    /// outside global unicast (2000::/3) is not, except the forms that carry an IPv4 address,
    /// which are judged by that address as well: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated
    /// (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`), 6to4 (`2002:AABB:CCDD::`) and ISATAP
    /// interface ids (`…:5efe:a.b.c.d`). Teredo (2001::/32, inside the non-global 2001::/23) and
    /// the deprecated IPv4-compatible form (`::a.b.c.d`) are refused outright.
    var isPublic: Bool {
        guard bytes.count == 16 else { return IPAddress.isPublicV4(bytes) }
        let b = bytes
        let embedded = Array(b[12..<16])
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff { return IPAddress.isPublicV4(embedded) }   // ::ffff:0:0/96 mapped
        if b[0..<8].allSatisfy({ $0 == 0 }), b[8] == 0xff, b[9] == 0xff, b[10] == 0, b[11] == 0 {                     // ::ffff:0:0:0/96 translated
            return IPAddress.isPublicV4(embedded)
        }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xff, b[3] == 0x9b {                                                    // 64:ff9b::/96 NAT64
            return b[4..<12].allSatisfy({ $0 == 0 }) && IPAddress.isPublicV4(embedded)                                  // (64:ff9b:1::/48 is local use)
        }
        guard b[0] & 0xe0 == 0x20 else { return false }                                                                // outside 2000::/3
        if b[0] == 0x20, b[1] == 0x01, b[2] < 0x02 { return false }                                                    // 2001::/23 (Teredo among them)
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0d, b[3] == 0xb8 { return false }                                     // 2001:db8::/32 documentation
        if b[0] == 0x3f, b[1] == 0xff, b[2] & 0xf0 == 0 { return false }                                               // 3fff::/20 documentation
        if b[0] == 0x20, b[1] == 0x02, !IPAddress.isPublicV4(Array(b[2..<6])) { return false }                        // 2002::/16 6to4
        if (b[8] == 0x00 || b[8] == 0x02), b[9] == 0x00, b[10] == 0x5e, b[11] == 0xfe, !IPAddress.isPublicV4(embedded) { return false } // ISATAP
        return true
    }

    /// An IPv4 address by the IPv4 special-purpose registry (and multicast, class E, broadcast).
    static func isPublicV4(_ v4: [UInt8]) -> Bool {
        let value = v4.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return !IPAddress.nonGlobalV4.contains { value & $0.mask == $0.prefix }
    }

    /// The IPv4 blocks that are not globally reachable: (prefix, mask).
    private static let nonGlobalV4: [(prefix: UInt32, mask: UInt32)] = [
        ("0.0.0.0", 8), ("10.0.0.0", 8), ("100.64.0.0", 10), ("127.0.0.0", 8), ("169.254.0.0", 16), ("172.16.0.0", 12),
        ("192.0.0.0", 24), ("192.0.2.0", 24), ("192.88.99.0", 24), ("192.168.0.0", 16), ("198.18.0.0", 15), ("198.51.100.0", 24),
        ("203.0.113.0", 24), ("224.0.0.0", 4), ("240.0.0.0", 4),
    ].map { text, length in
        let parts = text.split(separator: ".").map { UInt32($0)! }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        return ((parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]) & mask, mask)
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
