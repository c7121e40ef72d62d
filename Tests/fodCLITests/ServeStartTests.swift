import Foundation
import FoDTestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What `fod serve` does with the data it finds at start.
@Suite("fod serve at start", .serialized)
struct ServeStartTests {
    @Test("a database file that is empty or not SQLite stops the start, and no admin key is made")
    func refusesBrokenDatabase() throws {
        for (content, expected) in [(Data(), "is empty (0 bytes)"), (Data("not a database".utf8), "is not an SQLite database")] {
            let data = try TestPaths.temporaryDirectory()
            try content.write(to: data.appendingPathComponent("fod.sqlite"))
            let result = try FodCLI.run(["serve", "--dev", "--data", data.path, "--port", String(Int.random(in: 20_000...40_000))], directory: TestPaths.repository)
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains(expected), "\(result.stderr)")
            #expect(!result.stderr.contains("bootstrap admin key"))
            #expect(try Data(contentsOf: data.appendingPathComponent("fod.sqlite")) == content, "the file is left as it was")
        }
    }

    @Test("fixtures and the first keys go into a new database only; a restart changes no data; fod import reloads on purpose")
    func seedsOnlyNewDatabase() throws {
        let first = try DealerCLITests.Server()
        let data = first.data
        let banner = try String(contentsOf: first.log, encoding: .utf8)
        #expect(banner.contains("bootstrap admin key"))
        let admin = try #require(banner.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("fod_") })
        // Change a fixture vehicle through the API.
        let vehicle = #"{"vin":"WAUZZZF45RA000001","model":"A6","model_year":2025,"market":"FR","equipment":["7UG"],"dealer_id":"DE-10002"}"#
        #expect(try Self.post(first.url + "/v1/vehicles", key: admin, body: vehicle) == 201)
        first.stop()

        let second = try DealerCLITests.Server(data: data)
        let again = try String(contentsOf: second.log, encoding: .utf8)
        #expect(!again.contains("bootstrap admin key"), "no new admin key for an existing database")
        let market = try Self.get(second.url + "/v1/vehicles/WAUZZZF45RA000001", key: admin)["market"] as? String
        #expect(market == "FR", "the restart kept the vehicle as the API left it")
        second.stop()

        let imported = try FodCLI.run(["import", "--data", data.path, "--fixtures", TestPaths.file("fixtures").path])
        #expect(imported.status == 0, "\(imported.stderr)")
        let third = try DealerCLITests.Server(data: data)
        defer { third.stop() }
        #expect(try Self.get(third.url + "/v1/vehicles/WAUZZZF45RA000001", key: admin)["market"] as? String == "DE", "fod import reloads the fixtures")
    }

    @Test("a start that names its own key and data folder is production: no demo data, the admin key in a 0600 file, development keys refused without --dev (serve, renew, close)")
    func productionStart() throws {
        let keys = try TestPaths.temporaryDirectory()
        let generated = try FodCLI.run(["keys", "generate", "--alg", "ES256", "--out", keys.path, "--name", "prod"])
        try #require(generated.status == 0, "\(generated.stderr)")
        let key = keys.appendingPathComponent("prod.private.pem").path
        let server = try DealerCLITests.Server(arguments: ["--key", key], development: false)
        let banner = try String(contentsOf: server.log, encoding: .utf8)
        #expect(!banner.contains("DEVELOPMENT MODE"), "\(banner)")
        #expect(!banner.contains("demo dealer key"))
        let keyFile = server.data.appendingPathComponent("bootstrap-admin.key")
        #expect(banner.contains(keyFile.path) && !banner.contains("fod_"), "the admin key is not in the log stream: \(banner)")
        #expect(try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int == 0o600)
        let admin = try String(contentsOf: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, _) = try Self.request(server.url + "/v1/vehicles/WAUZZZF45RA000001", key: admin, method: "GET", body: nil)
        #expect(status == 404, "production loads no demo vehicles")
        server.stop()

        // The development key without --dev: refused by every command that signs.
        for arguments in [["serve", "--data", server.data.path, "--key", "keys/dev-es256.private.pem", "--port", "1"],
                          ["renew", "--data", server.data.path], ["close", "--data", server.data.path, "--period", "2026-11"]] {
            let refused = try FodCLI.run(arguments, directory: TestPaths.repository)
            #expect(refused.status == 2 && refused.stderr.contains("development key"), "\(arguments): \(refused.stderr)")
        }
        // With the service's own key, renew runs (nothing is due) and signs nothing with the development key.
        let renewed = try FodCLI.run(["renew", "--data", server.data.path, "--key", key], directory: TestPaths.repository)
        #expect(renewed.status == 0 && renewed.stdout.hasPrefix("renewed 0,"), "\(renewed.stderr)")
    }

    @Test("the live server answers a bare ';' Content-Type with 415 and stays up; an announced body over the limit is 413 at once, with or without Expect: 100-continue")
    func hostileHeads() throws {
        let server = try DealerCLITests.Server()
        defer { server.stop() }
        let port = String(server.url.split(separator: ":").last ?? "")
        // Raw requests (a client library would not send these heads), each answered within 2 s.
        let script = #"""
        import socket, sys
        port = int(sys.argv[1])
        heads = [
            b"POST /v1/time HTTP/1.1\r\nHost: x\r\nContent-Type: ;\r\nContent-Length: 2\r\n\r\n{}",
            b"POST /v1/time HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n",
            b"POST /v1/time HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        for head in heads:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(head)
            print(s.recv(4096).split(b"\r\n")[0].decode())
            s.close()
        """#
        let result = try ProcessRunner.run("python3", ["-c", script, port])
        #expect(result.stdout.split(separator: "\n") == ["HTTP/1.1 415 Unsupported Media Type", "HTTP/1.1 413 Payload Too Large",
                                                          "HTTP/1.1 413 Payload Too Large", "HTTP/1.1 200 OK"], "\(result.stdout) \(result.stderr)")
    }

    /// One request; `key` as the bearer (none: unauthenticated), `headers` added.
    static func request(_ url: String, key: String?, method: String, body: String?, headers: [String: String] = [:]) throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        nonisolated(unsafe) var answer: (Int, Data) = (0, Data())
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, _ in
            answer = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data())
            done.signal()
        }.resume()
        done.wait()
        return answer
    }

    static func post(_ url: String, key: String, body: String) throws -> Int { try request(url, key: key, method: "POST", body: body).0 }

    static func get(_ url: String, key: String) throws -> [String: Any] {
        let (_, data) = try request(url, key: key, method: "GET", body: nil)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
