import AsyncHTTPClient
import CFoDSupport
import FoDStore
import Foundation
import HTTPTypes
import NIOCore
import NIOPosix
import Synchronization

/// The HTTP clients of the webhook deliveries, on one event loop thread of their own (not the
/// requests' loops) at a lower priority: no redirects followed, the policy's timeouts. A client
/// per endpoint whose host is a name, pinned to the address that was checked (`dnsOverride`), so
/// the connection goes where the check looked — a name cannot answer a public address to the
/// check and a private one to the connection (DNS rebinding). One worker holds an endpoint at a
/// time, so replacing an endpoint's client when its address changes never cuts another's request.
final class WebhookClients: Sendable {
    /// How much the delivery thread yields to the requests' threads when the cores are busy (a
    /// nice value: +5 weighs about a third of a request thread). Measured in docs/benchmarks.md.
    static let niceness: Int32 = 5

    private let group: MultiThreadedEventLoopGroup
    private let policy: WebhookPolicy
    /// For address literals (nothing to pin).
    private let plain: HTTPClient
    /// Endpoint id → the host and address its client is pinned to, and the client.
    private let pinned = Mutex<[String: (target: String, client: HTTPClient)]>([:])

    private init(policy: WebhookPolicy) async {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try? await group.next().submit { _ = fod_nice_this_thread(WebhookClients.niceness) }.get()
        self.policy = policy
        plain = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: WebhookClients.configuration(policy, pin: nil))
    }

    private static func configuration(_ policy: WebhookPolicy, pin: (host: String, address: String)?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .milliseconds(policy.timeout.milliseconds), read: .milliseconds(policy.timeout.milliseconds))
        configuration.decompression = .disabled
        if let pin { configuration.dnsOverride = [pin.host: pin.address] }
        return configuration
    }

    /// Runs `body` with the clients, shut down afterwards.
    static func with<T: Sendable>(_ policy: WebhookPolicy, _ body: (WebhookClients) async throws -> T) async throws -> T {
        let clients = await WebhookClients(policy: policy)
        let result: Result<T, any Error>
        do { result = .success(try await body(clients)) } catch { result = .failure(error) }
        await clients.shutdown()
        return try result.get()
    }

    /// The endpoint's host checked (resolved on the blocking pool) and the client to reach it with.
    /// - Throws: ``APIError`` `webhook_url_invalid`, `webhook_url_private`, `webhook_host_unknown`.
    func client(for endpoint: WebhookEndpoint) async throws -> HTTPClient {
        guard let url = URL(string: endpoint.url), let host = url.host else {
            throw APIError(.unprocessableContent, "webhook_url_invalid", "the URL does not parse")
        }
        let (allow, resolve) = (policy.allowPrivate, policy.resolve)
        guard let address = try await WebhookURL.checkResolvedInTime(host, allowPrivate: allow, resolve: resolve) else {
            return plain
        }
        let target = "\(host)=\(address)"
        let (client, replaced) = pinned.withLock { clients -> (HTTPClient, HTTPClient?) in
            if let current = clients[endpoint.id], current.target == target { return (current.client, nil) }
            let made = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: WebhookClients.configuration(policy, pin: (host, address)))
            let old = clients[endpoint.id]?.client
            clients[endpoint.id] = (target, made)
            return (made, old)
        }
        if let replaced { try? await replaced.shutdown() }
        return client
    }

    private func shutdown() async {
        let all = pinned.withLock { clients in
            defer { clients = [:] }
            return clients.values.map(\.client)
        }
        for client in all + [plain] { try? await client.shutdown() }
        try? await group.shutdownGracefully()
    }
}
