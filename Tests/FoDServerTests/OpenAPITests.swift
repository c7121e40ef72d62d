import FoDServer
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
        #expect(documented.count == 64, "\(documented.sorted())")
        #expect(routes.subtracting(documented).isEmpty, "routes missing from docs/openapi.yaml: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
    }

    @Test("the description's version is the one the service reports in fod_build_info")
    func sameVersion() throws {
        let text = try String(contentsOf: TestPaths.file("docs/openapi.yaml"), encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.hasPrefix("  version: ") }
        #expect(line.map { String($0.dropFirst("  version: ".count)) } == ServiceMetrics.version)
    }
}
