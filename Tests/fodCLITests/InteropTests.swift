import Foundation
import FoDCrypto
import FoDTestSupport
import Testing

/// Our tokens checked by implementations we did not write, and theirs by ours.
@Suite("Interoperability with openssl and Python cryptography")
struct InteropTests {
    static let script = TestPaths.file("scripts/interop")

    @Test("tokens issued by fod verify with the openssl command line (ES256 as DER, EdDSA raw)")
    func opensslVerifies() throws {
        let dir = try FodCLI.keyFolder()
        for key in ["es", "ed"] {
            let token = try FodCLI.issue(dir, key: key)
            let parts = token.split(separator: ".").map(String.init)
            let input = dir.appendingPathComponent("\(key).input")
            let signature = dir.appendingPathComponent("\(key).sig")
            try Data("\(parts[0]).\(parts[1])".utf8).write(to: input)
            let raw = try Base64URL.decode(parts[2])
            let publicKey = dir.appendingPathComponent("\(key).public.pem").path
            let result: ProcessResult
            if key == "es" {
                try Data(try ECDSASignature.der(fromRaw: raw)).write(to: signature)
                result = try ProcessRunner.run("openssl", ["dgst", "-sha256", "-verify", publicKey, "-signature", signature.path, input.path])
                #expect(result.stdout.contains("Verified OK"), "\(result.stdout) \(result.diagnosis)")
            } else {
                try Data(raw).write(to: signature)
                result = try ProcessRunner.run("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin", "-in", input.path, "-sigfile", signature.path])
                #expect(result.stdout.contains("Signature Verified Successfully"), "\(result.stdout) \(result.diagnosis)")
            }
            #expect(result.status == 0)
            // And openssl rejects it once the signed bytes change.
            try Data("\(parts[0]).\(parts[1])x".utf8).write(to: input)
            let tampered = key == "es"
                ? try ProcessRunner.run("openssl", ["dgst", "-sha256", "-verify", publicKey, "-signature", signature.path, input.path])
                : try ProcessRunner.run("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin", "-in", input.path, "-sigfile", signature.path])
            #expect(tampered.status != 0)
        }
    }

    @Test("tokens issued by fod verify with Python cryptography against our JWK Set")
    func cryptographyVerifies() throws {
        let dir = try FodCLI.keyFolder()
        for key in ["es", "ed"] {
            let token = try FodCLI.issue(dir, key: key)
            let result = try ProcessRunner.run("python3", [Self.script.appendingPathComponent("cryptography_verify.py").path,
                                                           dir.appendingPathComponent("jwks.json").path, token])
            #expect(result.status == 0, "\(result.diagnosis)")
            #expect(result.stdout.contains("\"feature\": \"MATRIX_LED\""))
            var parts = token.split(separator: ".").map(String.init)
            parts[1] = Base64URL.encode(Array(#"{"feature":"MORE_POWER"}"#.utf8))
            let forged = try ProcessRunner.run("python3", [Self.script.appendingPathComponent("cryptography_verify.py").path,
                                                           dir.appendingPathComponent("jwks.json").path, parts.joined(separator: ".")])
            #expect(forged.status == 1)
        }
    }

    @Test("tokens signed by Python cryptography verify with fod")
    func fodVerifiesCryptography() throws {
        let dir = try FodCLI.keyFolder()
        let now = Int(Date().timeIntervalSince1970)
        let claims = #"{"iss":"https://fod.oem.example","sub":"WVWZZZ1KZAW394821","jti":"py-1","iat":\#(now),"nbf":\#(now),"exp":\#(now + 3600),"feature":"NAV_PLUS","term":"P1M"}"#
        for key in ["es", "ed"] {
            let signed = try ProcessRunner.run("python3", [Self.script.appendingPathComponent("cryptography_sign.py").path,
                                                           dir.appendingPathComponent("\(key).private.pem").path, claims])
            try #require(signed.status == 0, "\(signed.diagnosis)")
            let token = signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let result = try FodCLI.run(["verify", "--keys", dir.appendingPathComponent("jwks.json").path, "--issuer", "https://fod.oem.example", token])
            #expect(result.status == 0, "\(key): \(result.diagnosis)")
            #expect(result.stdout.contains("NAV_PLUS"))
        }
    }
}
