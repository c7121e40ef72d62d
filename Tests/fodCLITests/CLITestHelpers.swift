import Foundation
import FoDTestSupport
import Testing

/// Runs the real `fod` binary.
enum FodCLI {
    static func run(_ arguments: [String], input: String? = nil, directory: URL? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
        let binary = TestPaths.fodBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "fod binary not found at \(binary.path); run `swift build` first or set FOD_BIN")
        return try ProcessRunner.run(binary.path, arguments, input: input, environment: environment, directory: directory)
    }

    /// A fresh folder with an ES256 and an EdDSA key and their JWK Set.
    static func keyFolder() throws -> URL {
        let dir = try TestPaths.temporaryDirectory()
        for (alg, name) in [("ES256", "es"), ("EdDSA", "ed")] {
            let result = try run(["keys", "generate", "--alg", alg, "--out", dir.path, "--name", name])
            try #require(result.status == 0, "\(result.stderr)")
        }
        let jwks = try run(["keys", "jwks", dir.appendingPathComponent("es.public.pem").path, dir.appendingPathComponent("ed.public.pem").path])
        try #require(jwks.status == 0, "\(jwks.stderr)")
        try jwks.stdout.write(to: dir.appendingPathComponent("jwks.json"), atomically: true, encoding: .utf8)
        return dir
    }

    static func issue(_ dir: URL, key: String = "es", extra: [String] = []) throws -> String {
        let result = try run(["issue", "--key", dir.appendingPathComponent("\(key).private.pem").path, "--issuer", "https://fod.oem.example",
                              "--vin", "WVWZZZ1KZAW394821", "--feature", "MATRIX_LED", "--term", "P1Y", "--dealer", "DE-1001"] + extra)
        try #require(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
