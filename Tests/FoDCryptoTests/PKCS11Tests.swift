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

/// Loads libp11 and SoftHSM into the test process. With them loaded beside the other suites' many
/// threads, OpenSSL's EC operations (`EVP_PKEY_CTX_set_group_name`, reading `qx`) failed for the
/// rest of the process in about half of the full runs; without this suite, none did (four runs).
/// Not reproduced with a C program (engine start, key loads, failed loads, the Ed25519 token,
/// beside threads generating keys) nor in `fod serve` with a token key, so the cause is open.
/// scripts/test therefore runs this suite in a process of its own, after the others
/// (`FOD_TEST_PKCS11_LATER=1` keeps it out of the first run).
@Suite("Keys in a PKCS#11 token (SoftHSM through OpenSSL's pkcs11 engine)", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["FOD_TEST_PKCS11_LATER"] != "1",
                "runs in a process of its own after the other suites (scripts/test)"),
       .enabled(if: SoftHSMToken.installed || ProcessInfo.processInfo.environment["FOD_TEST_REQUIRE_SOFTHSM"] == "1",
                "needs softhsm2 and libengine-pkcs11-openssl (Debian); CI sets FOD_TEST_REQUIRE_SOFTHSM=1, which turns their absence into a failure"))
struct PKCS11KeyTests {
    let setup: SoftHSMToken.Setup

    init() throws {
        #expect(SoftHSMToken.installed, "softhsm2 or libengine-pkcs11-openssl is not installed")
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

    @Test("one module per process; a module that is not there; Ed25519 keys are not listed by Debian's engine")
    func limits() throws {
        #expect(throws: CryptoError(.pkcs11Unavailable, "")) {
            try PrivateKey(pkcs11: try PKCS11URI("pkcs11:object=k?module-path=/nonexistent/libmodule.so"), environment: [:])
        }
        _ = try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)"), environment: [:])
        let other = try #require(["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/aarch64-linux-gnu/libcrypto.so.3"]
            .first { FileManager.default.fileExists(atPath: $0) })
        #expect(throws: CryptoError(.pkcs11Unavailable, "")) {
            try PrivateKey(pkcs11: try PKCS11URI("pkcs11:object=k?module-path=\(other)"), environment: [:])
        }
        #expect(throws: CryptoError(.pkcs11KeyUnavailable, "")) {
            try PrivateKey(pkcs11: try uri("&pin-value=\(SoftHSMToken.pin)", object: "ed", token: "fod-ed25519"), environment: [:])
        }
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
