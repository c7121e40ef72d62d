import FoDAPI
import FoDCrypto
import FoDEntitlements
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A dealer's HTTP client for a running `fod serve`: bearer key, the typed models of ``FoDAPI``
/// in and out (the server's own), problem documents turned into ``CommandError``s, and retries
/// of requests that are safe to repeat (reads, and activations, which carry an `Idempotency-Key`).
struct DealerClient {
    let server: URL
    let key: String
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 15
        return URLSession(configuration: configuration)
    }()

    /// An answer: the status, the typed body, its bytes and the headers (names in lower case).
    struct Answer<Body: Decodable> {
        let status: Int
        let body: Body
        let bytes: [UInt8]
        let headers: [String: String]
    }

    /// Sends a request without a body and decodes the answer as `Body`.
    func get<Body: Decodable>(_ path: String, as type: Body.Type) async throws -> Answer<Body> {
        try await send("GET", path, as: type)
    }

    /// Sends a request, retrying up to `attempts` times on network errors (never on an answer).
    /// - Throws: ``CommandError`` `server_unreachable`, `server_refused` (4xx/5xx with the problem's code), `server_answer_invalid`.
    func send<Body: Decodable>(_ method: String, _ path: String, json: (any Encodable)? = nil, as type: Body.Type,
                               headers extra: [String: String] = [:], attempts: Int = 3) async throws -> Answer<Body> {
        guard let url = URL(string: path, relativeTo: server) else { throw CommandError(.serverAnswer, "bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(try JSONValueEncoder().bytes(json))
        }
        var lastError: (any Error)?
        for attempt in 1...max(1, attempts) {
            do {
                let (data, response) = try await session.data(for: request)
                guard let http = response as? HTTPURLResponse else { throw CommandError(.serverAnswer, "not an HTTP answer") }
                return try DealerClient.answer(http, Array(data), as: type)
            } catch let error as CommandError {
                throw error
            } catch {
                lastError = error
                if attempt < attempts { try await Task.sleep(nanoseconds: UInt64(attempt) * 500_000_000) }
            }
        }
        throw CommandError(.serverUnreachable, "cannot reach \(server.absoluteString) after \(attempts) attempts (\(lastError.map { "\($0.localizedDescription)" } ?? "no answer"))")
    }

    private static func answer<Body: Decodable>(_ http: HTTPURLResponse, _ bytes: [UInt8], as type: Body.Type) throws -> Answer<Body> {
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        let decoder = JSONValueDecoder()
        guard (200..<300).contains(http.statusCode) else {
            guard let problem = try? decoder.decode(Problem.self, from: bytes) else {
                throw CommandError(.serverAnswer, "HTTP \(http.statusCode) without a problem document — is \(http.url?.host ?? "the server") a fod server?")
            }
            throw CommandError(.serverRefused, "\(problem.code): \(problem.detail)")
        }
        do {
            return Answer(status: http.statusCode, body: try decoder.decode(type, from: bytes), bytes: bytes, headers: headers)
        } catch {
            throw CommandError(.serverAnswer, "HTTP \(http.statusCode) with an answer fod does not understand (\(error)) — is \(http.url?.host ?? "the server") a fod server of this version?")
        }
    }
}
