import Foundation
import FoDTestSupport
import Testing

/// Root metadata checked by two JOSE libraries we did not write (joserfc, jwcrypto), signature by
/// signature, and theirs accepted by fod (scripts/interop/root_jose.py).
@Suite("Root metadata with joserfc and jwcrypto")
struct TrustInteropTests {
    static let script = TestPaths.file("scripts/interop/root_jose.py").path
    static let keys = TestPaths.file("fixtures/trust/keys")

    static func key(_ name: String, _ half: String = "public") -> String { keys.appendingPathComponent("\(name).\(half).pem").path }

    /// Each signature's verdicts from `root_jose.py check`.
    static func check(_ root: URL, signers: URL? = nil) throws -> [[String: Any]] {
        let result = try ProcessRunner.run("python3", [script, "check", root.path] + (signers.map { [$0.path] } ?? []))
        try #require(result.status == 0, "\(result.diagnosis)")
        return try result.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
    }

    @Test("a root made and signed by fod verifies signature by signature with joserfc and jwcrypto; a changed signature does not")
    func fodRootsVerify() throws {
        let dir = try TestPaths.temporaryDirectory()
        let one = dir.appendingPathComponent("root-1.json"), two = dir.appendingPathComponent("root-2.json")
        let made = try FodCLI.run(["trust", "init", "--issuer", "https://fod.oem.example", "--root-key", Self.key("root-alice"),
                                   "--root-key", Self.key("root-bob") + ";kid=holder-bob", "--root-key", Self.key("root-carol"), "--threshold", "2",
                                   "--issuing-key", Self.key("issuing-a") + ";scope=entitlement,manifest;markets=DE",
                                   "--expires", "2099-01-01T00:00:00Z", "--out", one.path])
        try #require(made.status == 0, "\(made.diagnosis)")
        for holder in ["root-alice", "root-bob"] {
            let signed = try FodCLI.run(["trust", "sign", one.path, "--key", Self.key(holder, "private")])
            try #require(signed.status == 0, "\(signed.diagnosis)")
        }
        let rotated = try FodCLI.run(["trust", "rotate", one.path, "--add-issuing-key", Self.key("issuing-b") + ";kid=hsm:b", "--out", two.path])
        try #require(rotated.status == 0, "\(rotated.diagnosis)")
        for holder in ["root-bob", "root-carol"] { _ = try FodCLI.run(["trust", "sign", two.path, "--key", Self.key(holder, "private")]) }

        let first = try Self.check(one)
        #expect(first.count == 2)
        #expect(first.allSatisfy { $0["joserfc"] as? Bool == true && $0["jwcrypto"] as? Bool == true }, "\(first)")
        #expect(Set(first.compactMap { $0["kid"] as? String }).contains("holder-bob"), "a root key's own kid is used")
        let second = try Self.check(two, signers: one)
        #expect(second.count == 2 && second.allSatisfy { $0["joserfc"] as? Bool == true && $0["jwcrypto"] as? Bool == true }, "\(second)")
        let walked = try FodCLI.run(["trust", "verify", one.path, two.path])
        #expect(walked.status == 0 && walked.stdout.contains("hsm:b"), "\(walked.diagnosis)")

        // A control: the libraries do refuse a signature that was changed.
        var document = try JSONSerialization.jsonObject(with: Data(contentsOf: one)) as? [String: Any] ?? [:]
        var signatures = document["signatures"] as? [[String: String]] ?? []
        let text = signatures[0]["signature"] ?? ""
        signatures[0]["signature"] = (text.hasPrefix("A") ? "B" : "A") + text.dropFirst()
        document["signatures"] = signatures
        let tampered = dir.appendingPathComponent("tampered.json")
        try JSONSerialization.data(withJSONObject: document).write(to: tampered)
        let verdicts = try Self.check(tampered)
        #expect(verdicts[0]["joserfc"] as? Bool == false && verdicts[0]["jwcrypto"] as? Bool == false && verdicts[1]["joserfc"] as? Bool == true)
        let refused = try FodCLI.run(["trust", "verify", tampered.path])
        #expect(refused.status == 1 && refused.stderr.contains("root_threshold"), "\(refused.diagnosis)")
    }

    @Test("a root signed by joserfc with the holders' keys is accepted by fod; signed by too few, refused")
    func joserfcRootsAccepted() throws {
        let dir = try TestPaths.temporaryDirectory()
        for (holders, expected) in [(["root-alice", "root-carol"], Int32(0)), (["root-alice"], Int32(1))] {
            let signed = try ProcessRunner.run("python3", [Self.script, "sign", TestPaths.file("fixtures/trust/root-2.json").path]
                                               + holders.map { Self.key($0, "private") })
            try #require(signed.status == 0, "\(signed.diagnosis)")
            let file = dir.appendingPathComponent("joserfc-root-2-\(holders.count).json")
            try Data(signed.stdout.utf8).write(to: file)
            let result = try FodCLI.run(["trust", "verify", TestPaths.file("fixtures/trust/root-1.json").path, file.path, "--at", "2027-03-01T00:00:00Z"])
            #expect(result.status == expected, "\(holders): \(result.diagnosis)")
            if expected == 0 { #expect(result.stdout.contains("hsm:fod-issuing-b")) } else { #expect(result.stderr.contains("root_threshold")) }
        }
    }
}
