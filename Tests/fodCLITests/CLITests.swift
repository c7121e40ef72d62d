import Foundation
import FoDTestSupport
import Testing

@Suite("fod command line")
struct CLITests {
    @Test("keys generate writes a 0600 private key, a public key, and prints the kid")
    func generate() throws {
        let dir = try TestPaths.temporaryDirectory()
        let result = try FodCLI.run(["keys", "generate", "--alg", "EdDSA", "--out", dir.path, "--name", "k"])
        #expect(result.status == 0)
        let kid = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(kid.count == 43)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("k.private.pem").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!result.stdout.contains("PRIVATE") && !result.stderr.contains("PRIVATE KEY-----"))
        let again = try FodCLI.run(["keys", "generate", "--alg", "EdDSA", "--out", dir.path, "--name", "k"])
        #expect(again.status == 2, "refuses to overwrite")
        let jwks = try FodCLI.run(["keys", "jwks", dir.appendingPathComponent("k.private.pem").path])
        #expect(jwks.status == 0 && jwks.stdout.contains(kid) && !jwks.stdout.contains("\"d\""))
    }

    @Test("issue, then verify with PEM or JWK Set, from an argument, a file or stdin")
    func issueVerify() throws {
        let dir = try FodCLI.keyFolder()
        for key in ["es", "ed"] {
            let token = try FodCLI.issue(dir, key: key)
            let file = dir.appendingPathComponent("token-\(key).txt")
            try (token + "\n").write(to: file, atomically: true, encoding: .utf8)
            for (source, input) in [(token, nil as String?), (file.path, nil), ("-", token)] {
                for keys in [dir.appendingPathComponent("jwks.json").path, dir.appendingPathComponent("\(key).public.pem").path] {
                    let result = try FodCLI.run(["verify", "--keys", keys, "--issuer", "https://fod.oem.example", "--vin", "wvwzzz1kzaw394821", source], input: input)
                    #expect(result.status == 0, "\(result.stderr)")
                    let claims = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                    #expect(claims?["feature"] as? String == "MATRIX_LED" && claims?["dealer"] as? String == "DE-1001")
                }
            }
        }
    }

    @Test("a failed verification prints the code on stderr and exits 1")
    func failures() throws {
        let dir = try FodCLI.keyFolder()
        let token = try FodCLI.issue(dir)
        let jwks = dir.appendingPathComponent("jwks.json").path
        let wrongVIN = try FodCLI.run(["verify", "--keys", jwks, "--issuer", "https://fod.oem.example", "--vin", "1M8GDM9AXKP042788", token])
        #expect(wrongVIN.status == 1 && wrongVIN.stderr.contains("vin_mismatch") && wrongVIN.stdout.isEmpty)
        let wrongIssuer = try FodCLI.run(["verify", "--keys", jwks, "--issuer", "https://other.example", token])
        #expect(wrongIssuer.status == 1 && wrongIssuer.stderr.contains("issuer_mismatch"))
        let future = try FodCLI.run(["verify", "--keys", jwks, "--issuer", "https://fod.oem.example", "--at", "2099-01-01T00:00:00Z", token])
        #expect(future.status == 1 && future.stderr.contains("expired"))
        let garbage = try FodCLI.run(["verify", "--keys", jwks, "--issuer", "https://fod.oem.example", "not-a-token"])
        #expect(garbage.status == 1 && garbage.stderr.contains("token_malformed"))
        let badVIN = try FodCLI.run(["issue", "--key", dir.appendingPathComponent("es.private.pem").path, "--issuer", "https://fod.oem.example",
                                     "--vin", "1M8GDM9A0KP042788", "--feature", "MATRIX_LED", "--term", "P1Y"])
        #expect(badVIN.status == 2 && badVIN.stderr.contains("vin_check_digit"))
        let badTerm = try FodCLI.run(["issue", "--key", dir.appendingPathComponent("es.private.pem").path, "--issuer", "https://fod.oem.example",
                                      "--vin", "WVWZZZ1KZAW394821", "--feature", "MATRIX_LED", "--term", "forever"])
        #expect(badTerm.status == 2 && badTerm.stderr.contains("term_invalid"))
        let usage = try FodCLI.run(["verify", "--keys", jwks, token])
        #expect(usage.status == 64 && usage.stderr.contains("--issuer"))
    }

    @Test("a private key readable by others is refused")
    func permissions() throws {
        let dir = try FodCLI.keyFolder()
        let path = dir.appendingPathComponent("es.private.pem").path
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let result = try FodCLI.run(["issue", "--key", path, "--issuer", "https://fod.oem.example", "--vin", "WVWZZZ1KZAW394821",
                                     "--feature", "MATRIX_LED", "--term", "P1Y"])
        #expect(result.status == 2 && result.stderr.contains("key_file_permissions"))
        #expect(!result.stderr.contains("BEGIN"))
    }

    @Test("explicit start and end, and inspect marks the output unverified")
    func datesAndInspect() throws {
        let dir = try FodCLI.keyFolder()
        let token = try FodCLI.issue(dir, extra: ["--not-before", "2027-01-01T00:00:00Z", "--expires", "2027-02-01T00:00:00.5+01:00"])
        let inspect = try FodCLI.run(["inspect", token])
        #expect(inspect.status == 0 && inspect.stderr.contains("UNVERIFIED"))
        let shown = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect(shown?["verified"] as? Bool == false)
        let claims = shown?["claims"] as? [String: Any]
        #expect(claims?["nbf"] as? Int == 1_798_761_600)
        #expect(claims?["exp"] as? Int == 1_801_436_400)
        let early = try FodCLI.run(["verify", "--keys", dir.appendingPathComponent("jwks.json").path, "--issuer", "https://fod.oem.example", token])
        #expect(early.status == 1 && early.stderr.contains("not_yet_valid"))
        let bad = try FodCLI.run(["issue", "--key", dir.appendingPathComponent("es.private.pem").path, "--issuer", "https://fod.oem.example",
                                  "--vin", "WVWZZZ1KZAW394821", "--feature", "MATRIX_LED", "--term", "P1Y", "--expires", "tomorrow"])
        #expect(bad.status == 2 && bad.stderr.contains("RFC 3339"))
    }

    @Test("--jws-only checks the RFC 8037 A.4 example and prints its payload")
    func jwsOnly() throws {
        let dir = try TestPaths.temporaryDirectory()
        let jwk = #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        try jwk.write(to: dir.appendingPathComponent("a2.json"), atomically: true, encoding: .utf8)
        let token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        let result = try FodCLI.run(["verify", "--jws-only", "--keys", dir.appendingPathComponent("a2.json").path, token])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "Example of Ed25519 signing")
    }

    @Test("manifests: fixtures verify through the CLI, rollback is refused")
    func manifest() throws {
        let common = ["verify", "--manifest", "--keys", TestPaths.file("keys/dev-jwks.json").path, "--issuer", "https://fod.oem.example",
                      "--vin", "WVWZZZ1KZAW394821", "--at", "2026-11-18T09:46:40Z", "--last-version", "7"]
        let ok = try FodCLI.run(common + [TestPaths.file("fixtures/tokens/manifest-valid.jwt").path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("\"ver\": 8"))
        let rollback = try FodCLI.run(common + [TestPaths.file("fixtures/tokens/manifest-rollback.jwt").path])
        #expect(rollback.status == 1 && rollback.stderr.contains("manifest_rollback"))
    }

    @Test("--help explains every subcommand")
    func help() throws {
        let result = try FodCLI.run(["--help"])
        for word in ["keys", "issue", "verify", "inspect", "Exit codes"] { #expect(result.stdout.contains(word)) }
        let verifyHelp = try FodCLI.run(["verify", "--help"])
        #expect(verifyHelp.stdout.contains("--jws-only") && verifyHelp.stdout.contains("--manifest"))
    }
}
