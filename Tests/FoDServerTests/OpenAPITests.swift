import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import Hummingbird
import Testing

/// docs/openapi.yaml describes exactly the routes the server has.
@Suite("OpenAPI description matches the server")
struct OpenAPITests {
    /// The spec, validated by `openapi-spec-validator` (PyPI), as "METHOD /path" lines.
    static func documentedOperations() throws -> Set<String> {
        let script = """
        import sys, yaml
        from openapi_spec_validator import validate
        spec = yaml.safe_load(open(sys.argv[1]))
        validate(spec)
        for path, item in spec["paths"].items():
            for method in item:
                if method in ("get", "post", "put", "patch", "delete"):
                    print(method.upper(), path)
        """
        let result = try ProcessRunner.run("python3", ["-c", script, TestPaths.file("docs/openapi.yaml").path])
        try #require(result.status == 0, "the OpenAPI description is not valid \(result.diagnosis)")
        return Set(result.stdout.split(separator: "\n").map(String.init))
    }

    @Test("every route is documented, and every documented operation is a route")
    func sameOperations() async throws {
        let service = try await TestService()
        let routes = Set(try buildRouter(services: service.services).routes.map { route -> String in
            // Hummingbird writes parameters as {name} or :name; the spec uses {name}.
            let path = route.path.description.split(separator: "/").map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/")
            return "\(route.method.rawValue) /\(path)"
        })
        let documented = try Self.documentedOperations()
        #expect(documented.count == 127, "\(documented.sorted())")
        #expect(routes.subtracting(documented).isEmpty, "routes missing from docs/openapi.yaml: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
    }

    @Test("the webhooks section and the Event schema name exactly the event types the outbox writes, each in one webhook")
    func sameEventTypes() throws {
        let script = """
        import sys, yaml
        spec = yaml.safe_load(open(sys.argv[1]))
        print("schema", *spec["components"]["schemas"]["Event"]["properties"]["type"]["enum"])
        for name, item in spec["webhooks"].items():
            print(name, *item["post"]["requestBody"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["type"]["enum"])
        """
        let result = try ProcessRunner.run("python3", ["-c", script, TestPaths.file("docs/openapi.yaml").path])
        try #require(result.status == 0, "\(result.diagnosis)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let schema = try #require(lines.first { $0.first == "schema" }).dropFirst()
        #expect(Array(schema) == Outbox.eventTypes)
        let inWebhooks = lines.filter { $0.first != "schema" }.flatMap { $0.dropFirst() }
        #expect(inWebhooks.sorted() == Outbox.eventTypes.sorted(), "each type in exactly one webhook")
    }

    @Test("the description's version is the one the service reports in fod_build_info")
    func sameVersion() throws {
        let text = try String(contentsOf: TestPaths.file("docs/openapi.yaml"), encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.hasPrefix("  version: ") }
        #expect(line.map { String($0.dropFirst("  version: ".count)) } == ServiceMetrics.version)
    }
}
