import Foundation
import FoDCrypto
import FoDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("PKCS#11 URIs (RFC 7512)")
struct PKCS11URITests {
    @Test("a URI names the key by label or id; the engine gets the path attributes, never the PIN")
    func parsing() throws {
        let uri = try PKCS11URI("pkcs11:token=fod%20issuing;object=issuing-2027;type=private?pin-value=1234&module-path=/usr/lib/softhsm/libsofthsm2.so")
        #expect(uri.token == "fod issuing")
        #expect(uri.object == "issuing-2027")
        #expect(uri.modulePath == "/usr/lib/softhsm/libsofthsm2.so")
        #expect(uri.keyIdentifier == "pkcs11:token=fod%20issuing;object=issuing-2027;type=private")
        #expect(!uri.description.contains("1234"))
        #expect(!String(describing: KeyLocation.pkcs11(uri)).contains("1234"))

        let byID = try PKCS11URI("pkcs11:id=%01%ab;serial=42?pin-source=file:/etc/fod/pin")
        #expect(byID.id == [0x01, 0xAB])
        #expect(byID.pinSource == "file:/etc/fod/pin")
        #expect(byID.keyIdentifier == "pkcs11:serial=42;id=%01%AB;type=private")
        #expect(try PKCS11URI("pkcs11:object=a;x-vendor=1").object == "a")
    }

    static let refusedURIs: [(String, CryptoError.Code)] = [
        ("file:key.pem", .pkcs11URIMalformed),
        ("pkcs11:", .pkcs11URIMalformed),                             // names no key
        ("pkcs11:token=fod", .pkcs11URIMalformed),                    // names no key either
        ("pkcs11:object=a;object=b", .pkcs11URIMalformed),            // repeated
        ("pkcs11:object=a;label=b", .pkcs11URIMalformed),             // unknown attribute
        ("pkcs11:object=a;type=cert", .pkcs11URIMalformed),
        ("pkcs11:object=a%2", .pkcs11URIMalformed),
        ("pkcs11:object=a%zz", .pkcs11URIMalformed),
        ("pkcs11:object=a b", .pkcs11URIMalformed),
        ("pkcs11:object=%ff", .pkcs11URIMalformed),                   // not UTF-8
        ("pkcs11:object=", .pkcs11URIMalformed),
        ("pkcs11:object", .pkcs11URIMalformed),
        ("pkcs11:object=a?pin-value=1&pin-source=/p", .pkcs11URIMalformed),
        ("pkcs11:object=a?module-path=relative.so", .pkcs11URIMalformed),
        ("pkcs11:object=a?module-name=softhsm2", .pkcs11URIMalformed),
        ("pkcs11:object=a?pin=1", .pkcs11URIMalformed),
        ("pkcs11:object=a;slot-id=3", .pkcs11URIUnsupported),
        ("pkcs11:object=a;library-manufacturer=x", .pkcs11URIUnsupported),
    ]

    @Test("malformed and unsupported URIs are refused with their code", arguments: refusedURIs)
    func refused(text: String, code: CryptoError.Code) {
        #expect { try PKCS11URI(text) } throws: { ($0 as? CryptoError)?.code == code }
    }

    @Test("--key: a pkcs11: URI or a file path")
    func location() throws {
        #expect(try KeyLocation("keys/dev-es256.private.pem") == .file("keys/dev-es256.private.pem"))
        guard case .pkcs11(let uri) = try KeyLocation("pkcs11:object=k") else { Issue.record("not a PKCS#11 location"); return }
        #expect(uri.object == "k")
        #expect(throws: CryptoError(.pkcs11URIMalformed, "")) { try KeyLocation("pkcs11:nothing") }
    }
}

/// Keys in a SoftHSM token, signed with through the module directly (no OpenSSL ENGINE). Runs in
/// the same process as every other suite: nothing global in OpenSSL changes when a token key is
/// opened (the defect of the ENGINE days — EC operations failing for the rest of the process after
/// a token key was loaded beside other suites — has no way in).
@Suite("Keys in a PKCS#11 token (SoftHSM, through its module)", .serialized,
       .enabled(if: SoftHSMToken.installed || ProcessInfo.processInfo.environment["FOD_TEST_REQUIRE_SOFTHSM"] == "1",
                "needs softhsm2 (Debian); CI sets FOD_TEST_REQUIRE_SOFTHSM=1, which turns its absence into a failure"))
struct PKCS11KeyTests {
    let setup: SoftHSMToken.Setup

    init() throws {
        #expect(SoftHSMToken.installed, "softhsm2 is not installed")
        setup = try SoftHSMToken.setup.get()
    }

    private func uri(_ extra: String = "", object: String = "dev-es256", token: String = "fod") throws -> PKCS11URI {
        try PKCS11URI("pkcs11:token=\(token);object=\(object)?module-path=\(setup.module)\(extra)")
    }

    @Test("the key in the token signs; its public half and kid are the file key's; it does not export")
    func signs() throws {
        let key = try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)"), environment: [:])
        let file = try KeyFile.readPublicKey(at: TestPaths.file("keys/dev-es256.public.pem").path)
        #expect(key.publicKey == file)
        #expect(key.keyID == file.thumbprint)
        #expect(key.algorithm == .es256)
        let message = Array("signing input".utf8)
        let signature = try key.signature(for: message)
        #expect(signature.count == 64)
        try file.verify(signature: signature, for: message)
        #expect(throws: CryptoError(.signatureInvalid, "")) { try file.verify(signature: signature, for: message + [1]) }
        #expect(throws: CryptoError(.keyNotExportable, "")) { try key.pkcs8PEM() }
        #expect(throws: CryptoError(.keyNotExportable, "")) { try key.privateJWK() }
        #expect(key.token != nil)
        #expect(!String(describing: key).contains(SoftHSMToken.pin))
    }

    @Test("the PIN from a 0600 file or FOD_PKCS11_PIN; a readable PIN file, another label or token are refused")
    func pins() throws {
        let pinFile = setup.directory.deletingLastPathComponent().appendingPathComponent("pin")
        try Data("\(SoftHSMToken.pin)\n".utf8).write(to: pinFile)
        chmod(pinFile.path, 0o644)
        #expect(throws: CryptoError(.keyFilePermissions, "")) { try PrivateKey(pkcs11: try uri("&pin-source=file:\(pinFile.path)"), environment: [:]) }
        chmod(pinFile.path, 0o600)
        let fromFile = try PrivateKey(pkcs11: try uri("&pin-source=file:\(pinFile.path)"), environment: [:])
        let fromEnvironment = try PrivateKey(pkcs11: try uri(), environment: ["FOD_PKCS11_PIN": SoftHSMToken.pin])
        #expect(fromFile.publicKey == fromEnvironment.publicKey)
        // A wrong PIN is tested in a new process (fodCLITests): PKCS#11 keeps a token logged in
        // for the whole process once a PIN was right, so here it would open the key.
        #expect(throws: CryptoError(.pkcs11KeyUnavailable, "")) {
            try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)", object: "no-such-key"), environment: [:])
        }
        #expect(throws: CryptoError(.pkcs11KeyUnavailable, "")) {
            try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)", token: "no-such-token"), environment: [:])
        }
    }

    @Test("a module that is not there, a library that is not a module; an Ed25519 key in the token signs, and OpenSSL's verifier accepts it")
    func modulesAndEd25519() throws {
        #expect(throws: CryptoError(.pkcs11Unavailable, "")) {
            try PrivateKey(pkcs11: try PKCS11URI("pkcs11:object=k?module-path=/nonexistent/libmodule.so"), environment: [:])
        }
        let other = try #require(["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/aarch64-linux-gnu/libcrypto.so.3"]
            .first { FileManager.default.fileExists(atPath: $0) })
        #expect(throws: CryptoError(.pkcs11Unavailable, "")) {
            try PrivateKey(pkcs11: try PKCS11URI("pkcs11:object=k?module-path=\(other)"), environment: [:])
        }
        let ed = try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)", object: "ed", token: "fod-ed25519"), environment: [:])
        #expect(ed.algorithm == .edDSA)
        let message = Array("an Ed25519 signature made in the token".utf8)
        let signature = try ed.signature(for: message)
        #expect(signature.count == 64)
        // openssl verifies it with the public key the token gave.
        let folder = try TestPaths.temporaryDirectory()
        let publicFile = folder.appendingPathComponent("ed.pub.pem"), messageFile = folder.appendingPathComponent("message"),
            signatureFile = folder.appendingPathComponent("signature")
        try Data(try ed.publicKey.pem().utf8).write(to: publicFile)
        try Data(message).write(to: messageFile)
        try Data(signature).write(to: signatureFile)
        let checked = try ProcessRunner.run("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", publicFile.path, "-rawin", "-in", messageFile.path,
                                                        "-sigfile", signatureFile.path])
        #expect(checked.status == 0 && checked.stdout.contains("Signature Verified Successfully"), "\(checked.diagnosis)")
        // A P-256 key of the other token beside it, in the same process and module.
        let es = try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)"), environment: [:])
        try es.publicKey.verify(signature: try es.signature(for: message), for: message)
    }

    @Test("the token goes away: signing fails with pkcs11_token_unavailable, no crash; it comes back: signing resumes without reopening the key")
    func tokenAwayAndBack() throws {
        let key = try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)"), environment: [:])
        let message = Array("before, during and after".utf8)
        try key.publicKey.verify(signature: try key.signature(for: message), for: message)
        let tokens = setup.directory.appendingPathComponent("tokens"), away = setup.directory.appendingPathComponent("tokens-away")
        try FileManager.default.moveItem(at: tokens, to: away)
        var failed = 0
        for _ in 0..<3 {
            do { _ = try key.signature(for: message) } catch let error as CryptoError {
                #expect(error.code == .pkcs11TokenUnavailable, "\(error)")
                failed += 1
            }
        }
        #expect(failed >= 2, "signing without the token fails (the first call may still use the key in the module's memory)")
        #expect(!key.isReachable)
        try FileManager.default.moveItem(at: away, to: tokens)
        try key.publicKey.verify(signature: try key.signature(for: message), for: message)
        #expect(key.isReachable)
    }

    @Test("signing from many threads at once: every signature verifies")
    func concurrent() async throws {
        let key = try KeyLocation.pkcs11(try uri()).load(environment: ["FOD_PKCS11_PIN": SoftHSMToken.pin])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<50 {
                        let message = Array("message \(task) \(index)".utf8)
                        try key.publicKey.verify(signature: try key.signature(for: message), for: message)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
