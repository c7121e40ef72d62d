import FoDCrypto
import FoDEntitlements
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A dealer's HTTP client for a running `fod serve`: bearer key, JSON in and out, problem
/// documents turned into ``CommandError``s, and retries of requests that are safe to repeat
/// (reads, and activations, which carry an `Idempotency-Key`).
struct DealerClient {
    let server: URL
    let key: String
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 15
        return URLSession(configuration: configuration)
    }()

    /// An answer: the status and the parsed JSON object.
    struct Answer {
        let status: Int
        let body: JSONObject
        let bytes: [UInt8]
        let headers: [String: String]
    }

    /// Sends a request, retrying up to `attempts` times on network errors (never on an answer).
    /// - Throws: ``CommandError`` `server_unreachable`, `server_refused` (4xx/5xx with the problem's code), `server_answer_invalid`.
    func send(_ method: String, _ path: String, json: JSONValue? = nil, headers extra: [String: String] = [:], attempts: Int = 3) async throws -> Answer {
        guard let url = URL(string: path, relativeTo: server) else { throw CommandError(.serverAnswer, "bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(JSONWriter.text(json).utf8)
        }
        var lastError: (any Error)?
        for attempt in 1...max(1, attempts) {
            do {
                let (data, response) = try await session.data(for: request)
                guard let http = response as? HTTPURLResponse else { throw CommandError(.serverAnswer, "not an HTTP answer") }
                return try DealerClient.answer(http, Array(data))
            } catch let error as CommandError {
                throw error
            } catch {
                lastError = error
                if attempt < attempts { try await Task.sleep(nanoseconds: UInt64(attempt) * 500_000_000) }
            }
        }
        throw CommandError(.serverUnreachable, "cannot reach \(server.absoluteString) after \(attempts) attempts (\(lastError.map { "\($0.localizedDescription)" } ?? "no answer"))")
    }

    private static func answer(_ http: HTTPURLResponse, _ bytes: [UInt8]) throws -> Answer {
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        guard case .object(let body)? = try? JSONParser.parse(bytes) else {
            throw CommandError(.serverAnswer, "HTTP \(http.statusCode) without a JSON body — is \(http.url?.host ?? "the server") a fod server?")
        }
        guard (200..<300).contains(http.statusCode) else {
            let code = body["code"]?.string ?? "http_\(http.statusCode)"
            throw CommandError(.serverRefused, "\(code): \(body["detail"]?.string ?? "HTTP \(http.statusCode)")")
        }
        return Answer(status: http.statusCode, body: body, bytes: bytes, headers: headers)
    }
}
