import COpenSSL
import Foundation
import Synchronization

/// OpenSSL's `pkcs11` engine (libp11, Debian's `libengine-pkcs11-openssl`), loaded once per process.
///
/// The engine is OpenSSL's way into Debian 12's PKCS#11 stack (there is no `pkcs11-provider`
/// package there): it hands out an `EVP_PKEY` whose private half stays in the token and whose
/// signatures the token computes. One module per process, as the engine holds one; keys are
/// loaded one at a time under a lock, because the PIN is an engine setting. Signing needs no lock:
/// libp11 keeps a pool of sessions per slot.
///
/// `@unchecked Sendable`: the engine pointer is only configured under ``shared``'s lock, and is
/// never freed once it has loaded a key (the keys hold it).
final class PKCS11Engine: @unchecked Sendable {
    private let pointer: OpaquePointer
    /// The module this engine was started with (`nil`: libp11's default, p11-kit's proxy).
    let module: String?

    private static let shared = Mutex<PKCS11Engine?>(nil)

    private init(pointer: OpaquePointer, module: String?) {
        self.pointer = pointer
        self.module = module
    }

    /// Loads the private key `uri` names, with the PIN from `pin-value`, `pin-source` or
    /// `FOD_PKCS11_PIN`, from the module in `module-path`, `FOD_PKCS11_MODULE` or libp11's default.
    /// - Throws: ``CryptoError`` `pkcs11_unavailable` (no engine, or a second module),
    ///   `pkcs11_key_unavailable` (not found, wrong PIN, no public key beside it),
    ///   `key_unsupported`, or `key_file_permissions`/`key_file_io` for a PIN file.
    static func loadKey(_ uri: PKCS11URI, environment: [String: String]) throws -> EVPKey {
        let module = uri.moduleFile ?? environment["FOD_PKCS11_MODULE"].flatMap { $0.isEmpty ? nil : $0 }
        if let module, !FileManager.default.isReadableFile(atPath: module) {
            throw CryptoError(.pkcs11Unavailable, "the PKCS#11 module '\(module)' does not exist or cannot be read")
        }
        let pin = try pin(for: uri, environment: environment)
        return try shared.withLock { engine in
            let current: PKCS11Engine
            if let engine {
                guard engine.module == module else {
                    throw CryptoError(.pkcs11Unavailable,
                                      "this process already uses the PKCS#11 module '\(engine.module ?? "(default)")'; all keys must be in tokens of one module")
                }
                current = engine
            } else {
                current = try start(module: module)
                engine = current
            }
            return try current.load(uri, pin: pin)
        }
    }

    private static func start(module: String?) throws -> PKCS11Engine {
        guard let pointer = COpenSSL_ENGINE_by_id("pkcs11") else {
            throw OpenSSLErrorQueue.error(.pkcs11Unavailable,
                                          "OpenSSL has no 'pkcs11' engine (Debian: apt-get install libengine-pkcs11-openssl)")
        }
        if let module, COpenSSL_ENGINE_ctrl_cmd_string(pointer, "MODULE_PATH", module) != 1 {
            COpenSSL_ENGINE_free(pointer)
            throw OpenSSLErrorQueue.error(.pkcs11Unavailable, "the pkcs11 engine refused the module path")
        }
        guard COpenSSL_ENGINE_init(pointer) == 1 else {
            COpenSSL_ENGINE_free(pointer)
            throw OpenSSLErrorQueue.error(.pkcs11Unavailable, "the pkcs11 engine could not start with the module '\(module ?? "(default)")'")
        }
        return PKCS11Engine(pointer: pointer, module: module)
    }

    private func load(_ uri: PKCS11URI, pin: String?) throws -> EVPKey {
        // Without a PIN the engine keeps one given for an earlier key (it cannot be unset) and
        // first looks for the key without logging in.
        if let pin, COpenSSL_ENGINE_ctrl_cmd_string(pointer, "PIN", pin) != 1 {
            throw OpenSSLErrorQueue.error(.pkcs11Unavailable, "the pkcs11 engine refused the PIN setting")
        }
        // The identifier holds no PIN: libp11 prints the URI of a key it cannot find.
        guard let key = COpenSSL_ENGINE_load_private_key(pointer, uri.keyIdentifier) else {
            throw OpenSSLErrorQueue.error(.pkcs11KeyUnavailable,
                                          "no private key at \(uri.keyIdentifier) (wrong token, label, id or PIN; libp11 0.4.12 lists RSA and EC keys only)")
        }
        return try EVPKey(takingOwnershipOf: key)
    }

    /// The PIN: `pin-value`, the first line of the `pin-source` file (mode 0600 like a key), or
    /// `FOD_PKCS11_PIN`; `nil` when none is given.
    private static func pin(for uri: PKCS11URI, environment: [String: String]) throws -> String? {
        if let value = uri.pinValue { return value }
        if let source = uri.pinSource {
            let path = source.hasPrefix("file:") ? String(source.dropFirst("file:".count)) : source
            guard path.hasPrefix("/") else {
                throw CryptoError(.pkcs11URIMalformed, "PKCS#11 URI: 'pin-source' must be a file (file:/path or /path)")
            }
            let text = try KeyFile.readSecret(at: path, what: "PIN file")
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let pin = line.hasSuffix("\r") ? String(line.dropLast()) : line
            guard !pin.isEmpty else { throw CryptoError(.pkcs11KeyUnavailable, "the PIN file '\(path)' is empty") }
            return pin
        }
        if let value = environment["FOD_PKCS11_PIN"], !value.isEmpty { return value }
        return nil
    }
}
