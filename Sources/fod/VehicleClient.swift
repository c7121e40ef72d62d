import AsyncHTTPClient
import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import Foundation
import NIOCore
import NIOHTTP1

/// What a car asks a fod service for (docs/vehicle-sdk.md): root versions, attested time for its
/// nonce, its manifest. The manifest needs a key of the issuer role — the car's backend relays
/// for it — from `FOD_VEHICLE_KEY` or `--key-file`; roots and time are public.
struct VehicleClient: Sendable {
    let http: HTTPClient
    let server: String
    let key: String?

    /// An answer: status and body bytes.
    struct Answer: Sendable {
        let status: Int
        let body: [UInt8]
    }

    init(http: HTTPClient, server: URL, key: String?) {
        self.http = http
        var base = server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.server = base
        self.key = key
    }

    /// Sends one request (no retry: a car tries again on its next poll).
    /// - Throws: ``CommandError`` `server_unreachable`.
    func send(_ method: HTTPMethod, _ path: String, json: [UInt8]? = nil, authorized: Bool = false) async throws -> Answer {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if authorized, let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        do {
            let response = try await http.execute(request, timeout: .seconds(15))
            var body = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), body: body.readBytes(length: body.readableBytes) ?? [])
        } catch {
            throw CommandError(.serverUnreachable, "\(method) \(server)\(path): \(error)")
        }
    }

    /// Root version `version`, or `nil` when the service has none (404).
    func root(_ version: Int64) async throws -> String? {
        let answer = try await send(.GET, "/.well-known/fod/root/\(version).json")
        if answer.status == 404 { return nil }
        return String(decoding: try VehicleClient.ok(answer, "root \(version)"), as: UTF8.self)
    }

    /// Attested time answering `nonce`.
    func time(nonce: String) async throws -> TimeResponse {
        let answer = try await send(.POST, "/v1/time", json: try JSONValueEncoder().bytes(TimeRequest(nonce: nonce)))
        return try VehicleClient.decode(TimeResponse.self, try VehicleClient.ok(answer, "attested time"))
    }

    /// The vehicle's manifest.
    func manifest(_ vin: VIN) async throws -> ManifestResponse {
        let answer = try await send(.GET, "/v1/vehicles/\(vin.value)/manifest", authorized: true)
        return try VehicleClient.decode(ManifestResponse.self, try VehicleClient.ok(answer, "the manifest"))
    }

    /// Reports what the car has (`POST /v1/vehicles/{vin}/state`) and returns the comparison.
    func reportState(_ state: VehicleStateRequest, vin: VIN) async throws -> VehicleStateResponse {
        let answer = try await send(.POST, "/v1/vehicles/\(vin.value)/state", json: try JSONValueEncoder().bytes(state), authorized: true)
        return try VehicleClient.decode(VehicleStateResponse.self, try VehicleClient.ok(answer, "the state report"))
    }

    /// The body of a 2xx answer.
    /// - Throws: ``CommandError`` `server_refused` with the problem's code, `server_answer_invalid`.
    static func ok(_ answer: Answer, _ what: String) throws -> [UInt8] {
        guard (200..<300).contains(answer.status) else {
            if let problem = try? JSONValueDecoder().decode(Problem.self, from: answer.body) {
                throw CommandError(.serverRefused, "\(what): HTTP \(answer.status) \(problem.code): \(problem.detail)")
            }
            throw CommandError(.serverAnswer, "\(what): HTTP \(answer.status) without a problem document")
        }
        return answer.body
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do { return try JSONValueDecoder().decode(type, from: bytes) } catch {
            throw CommandError(.serverAnswer, "an answer fod does not understand: \(error)")
        }
    }

    /// The key for the manifest: `FOD_VEHICLE_KEY`, else the first line of `file` (mode 0600).
    static func key(file: String?) throws -> String? {
        if let file {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            return text.split(whereSeparator: \.isNewline).first.map(String.init)
        }
        return ProcessInfo.processInfo.environment["FOD_VEHICLE_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
