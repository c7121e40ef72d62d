import FoDServer
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What an integrator checking the API against its description found: one status per code,
/// `Location` on what a POST makes, the resource it points to, a fixed title per problem type.
@Suite("API shape")
struct APIShapeTests {
    static let vin = "WAUZZZF45RA000001"

    @Test("a VIN that does not validate is 422 with its code in a path as in a body; a query that does not parse is 400 query_invalid", arguments: StoreBackend.all)
    func oneStatusPerCode(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for path in ["/v1/vehicles/NOPE", "/v1/vehicles/NOPE/offers", "/v1/vehicles/NOPE/entitlements", "/v1/vehicles/NOPE/manifest"] {
                try await client.execute(uri: path, method: .get, headers: headers(service.issuer)) { response async throws in
                    #expect(response.status == .unprocessableContent, "\(path): \(response.status)")
                    #expect(try json(response)["code"] as? String == "vin_malformed", "\(path)")
                }
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "k-1"),
                                     body: body(#"{"vin":"NOPE","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "vin_malformed")
            }
            for query in ["period=2026-13", "period=abc", "period=2026-06&dealer=%3Cx%3E"] {
                for path in ["/v1/reports/statements", "/v1/activations"] {
                    try await client.execute(uri: "\(path)?\(query)", method: .get, headers: headers(service.auditor)) { response async throws in
                        #expect(response.status == .badRequest, "\(path)?\(query): \(response.status)")
                        #expect(try json(response)["code"] as? String == "query_invalid", "\(path)?\(query)")
                    }
                }
            }
        }
    }

    @Test("what a POST makes has a Location that answers with it, also on a replay; a dealer reads only its own", arguments: StoreBackend.all)
    func locations(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"WBA12345678901234","model":"A6","model_year":2025,"market":"DE"}"#)) { response async throws in
                #expect(response.status == .created)
                #expect(response.headers[.location] == "/v1/vehicles/WBA12345678901234")
            }
            try await client.execute(uri: "/v1/vehicles/WBA12345678901234", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect(response.status == .ok)
            }
            var locations: [String] = []
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "sale-1"),
                                         body: body(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                    #expect(response.status == .created)
                    let id = try #require(try json(response)["id"] as? String)
                    #expect(response.headers[.location] == "/v1/entitlements/\(id)")
                    locations.append(response.headers[.location] ?? "")
                }
            }
            #expect(locations.count == 2 && locations[0] == locations[1], "the replay points to the same entitlement")
            let location = locations[0]
            for (key, status) in [(service.issuer, HTTPResponse.Status.ok), (service.auditor, .ok), (service.dealer1, .ok), (service.dealer2, .notFound)] {
                try await client.execute(uri: location, method: .get, headers: headers(key)) { response async throws in
                    #expect(response.status == status, "\(location): \(response.status)")
                    if status == .ok {
                        let entitlement = try json(response)
                        #expect(location.hasSuffix(entitlement["id"] as? String ?? "?"))
                        #expect(entitlement["feature"] as? String == "NAV_PLUS" && entitlement["dealer"] as? String == "DE-10001")
                        #expect(entitlement["active"] as? Bool == true)
                    } else {
                        #expect(try json(response)["code"] as? String == "entitlement_not_found")
                    }
                }
            }
            try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M"}"#)) { response async throws in
                #expect(response.status == .created)
                let id = try #require(try json(response)["id"] as? String)
                #expect(response.headers[.location] == "/v1/entitlements/\(id)")
            }
            try await client.execute(uri: "/v1/entitlements/not-an-id!", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "id_invalid")
            }
        }
    }

    @Test("a problem's title is fixed for its type, whatever the detail", arguments: StoreBackend.all)
    func problemTitles(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var titles: [String: Set<String>] = [:]
            for (path, key) in [("/v1/vehicles/NOPE", service.issuer), ("/v1/vehicles/WAUZZZ", service.auditor),
                                ("/v1/vehicles/1HGCM82633A004352", service.issuer), ("/v1/features", nil), ("/v1/audit", service.dealer1)] {
                try await client.execute(uri: path, method: .get, headers: headers(key)) { response async throws in
                    let problem = try json(response)
                    let code = try #require(problem["code"] as? String)
                    let title = try #require(problem["title"] as? String)
                    #expect(problem["type"] as? String == "https://fod.dev/problems/\(code)")
                    #expect(title != response.status.reasonPhrase, "\(code): the title is the HTTP phrase")
                    titles[code, default: []].insert(title)
                }
            }
            #expect(Set(titles.keys) == ["vin_malformed", "vehicle_not_found", "unauthorized", "forbidden"])
            #expect(titles.values.allSatisfy { $0.count == 1 })
        }
    }
}
