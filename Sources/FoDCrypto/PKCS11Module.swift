import CPKCS11
import FoundationEssentials
import Synchronization

/// A PKCS#11 module (a shared library), loaded with `dlopen` and called through its function list
/// — no OpenSSL ENGINE, nothing global in OpenSSL. Each module is loaded and initialized once per
/// process (``shared(_:)``), for a threaded caller (`CKF_OS_LOCKING_OK`: the module locks itself;
/// one session is used by one thread at a time, ``PKCS11Key``'s pool).
///
/// `@unchecked Sendable`: the module pointer is set once; re-initialization is under ``state``'s lock.
final class PKCS11Module: @unchecked Sendable {
    let path: String
    let pointer: OpaquePointer
    /// Increases with every re-initialization: sessions and handles of an earlier one are gone.
    private let state = Mutex(0)

    private static let modules = Mutex<[String: PKCS11Module]>([:])

    /// p11-kit's proxy, which loads the modules the system configures (the default, as libp11's
    /// was): where Debian puts it on this machine's architecture.
    static var defaultPath: String {
        let candidates = ["/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so", "/usr/lib/p11-kit-proxy.so"]
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) } ?? candidates[0]
    }

    private init(path: String, pointer: OpaquePointer) {
        self.path = path
        self.pointer = pointer
    }

    /// The module at `path`, loaded and initialized on first use.
    /// - Throws: ``CryptoError`` `pkcs11_unavailable`.
    static func shared(_ path: String) throws -> PKCS11Module {
        try modules.withLock { modules in
            if let module = modules[path] { return module }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw CryptoError(.pkcs11Unavailable, "the PKCS#11 module '\(path)' does not exist or cannot be read")
            }
            var pointer: OpaquePointer?
            var error = [CChar](repeating: 0, count: 256)
            let rv = fod_p11_open(path, &pointer, &error, error.count)
            guard rv == CKR_OK, let pointer else {
                let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw CryptoError(.pkcs11Unavailable, "the PKCS#11 module '\(path)' did not start: \(reason.isEmpty ? PKCS11Module.name(rv) : reason)")
            }
            let module = PKCS11Module(path: path, pointer: pointer)
            modules[path] = module
            return module
        }
    }

    /// The current initialization.
    var generation: Int { state.withLock { $0 } }

    /// Finalizes and initializes the module again, unless another key did since `seen` (so two
    /// keys of one module that both lost their token do not undo each other's reconnection).
    /// - Returns: the generation now.
    func reinitialize(after seen: Int) throws -> Int {
        try state.withLock { generation in
            guard generation == seen else { return generation }
            let rv = fod_p11_reinitialize(pointer)
            guard rv == CKR_OK else { throw CryptoError(.pkcs11TokenUnavailable, "the PKCS#11 module did not start again (\(PKCS11Module.name(rv)))") }
            generation += 1
            return generation
        }
    }

    /// A return value's name, for messages (`CKR_0x…` for one not listed).
    static func name(_ rv: CK_RV) -> String {
        let names: [CK_RV: String] = [
            CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR", CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR", CK_RV(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED",
            CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT", CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID",
            CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID", CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID",
            CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT", CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED", CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN",
            CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID", CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED",
            CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED", CK_RV(CKR_SESSION_CLOSED): "CKR_SESSION_CLOSED",
        ]
        return names[rv] ?? "CKR_0x" + String(rv, radix: 16)
    }
}
