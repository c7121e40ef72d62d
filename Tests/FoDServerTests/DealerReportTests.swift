import FoDEntitlements
import FoDRevenue
@testable import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("One dealer's month from its own events")
struct DealerReportTests {
    @Test("the report over one dealer's events (activations and their refunds) gives that dealer the same statement and lines as the report over all", arguments: StoreBackend.all)
    func dealerSlice(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var first = ""
            for (index, (key, vin, feature)) in [(service.dealer1, "WAUZZZF45RA000001", "NAV_PLUS"), (service.dealer1, "WAUZZZF45RA000001", "MATRIX_LED"),
                                                  (service.dealer2, "WAUZZZFY7P2000002", "NAV_PLUS")].enumerated() {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(key, idempotency: "s\(index)"),
                                         body: body(#"{"vin":"\#(vin)","feature":"\#(feature)","term":"P1Y"}"#)) { response async throws in
                    #expect(response.status == .created)
                    if index == 0 { first = try json(response)["id"] as? String ?? "" }
                }
            }
            try await client.execute(uri: "/v1/activations/\(first)/refund", method: .post, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .ok)
            }
        }
        let period = "2026-11"
        let all = try await StatementsReport.run(services: service.services, period: period)
        let mine = try await StatementsReport.run(services: service.services, period: period, dealer: try DealerID("DE-10001"))
        let expected = all.statements.filter { $0.dealerID == "DE-10001" }
        #expect(expected.count == 1 && expected[0].clawbacks == 1 && expected[0].activations == 2)
        #expect(mine.statements.map(\.dealerID) == ["DE-10001"])
        #expect(mine.statements.map(\.payable) == expected.map(\.payable))
        #expect(mine.statements.map(\.clawback) == expected.map(\.clawback))
        #expect(try mine.lines.collect() == (try all.lines.collect()).filter { $0.dealerID == "DE-10001" })
    }
}
