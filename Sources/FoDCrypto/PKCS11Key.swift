import CPKCS11
import FoundationEssentials
import Synchronization

/// A private key in a PKCS#11 token, signed with through the module directly (``PKCS11Module``):
/// `CKM_ECDSA` over the SHA-256 digest for ES256, `CKM_EDDSA` for Ed25519. Its public half and
/// algorithm are read from the token (the public key object beside the private one).
///
/// Sessions are pooled: a signature takes an idle session (or opens one; the user is logged in
/// once per token, which every session of the application shares) and gives it back. When the
/// token fails — it went away, its module failed — the signature throws
/// `pkcs11_token_unavailable`, the pool is dropped, and the next signature reconnects: the module
/// is initialized again, the token, the login and the key found anew. No restart is needed.
final class PKCS11Key: Sendable {
    let uri: PKCS11URI
    let algorithm: SigningAlgorithm
    /// The public key as SubjectPublicKeyInfo DER.
    let publicKeySPKI: [UInt8]
    private let module: PKCS11Module
    private let pin: [UInt8]?
    private let state: Mutex<Connection?>

    /// What a connection to the token holds: the module's generation it was made in, the slot, the
    /// key's handle, and the idle sessions.
    private struct Connection {
        var generation: Int
        var slot: CK_SLOT_ID
        var key: CK_OBJECT_HANDLE
        var idle: [CK_SESSION_HANDLE]
    }

    /// Opens the key `uri` names, with the PIN from `pin-value`, `pin-source` or `FOD_PKCS11_PIN`,
    /// in the module of `module-path`, `FOD_PKCS11_MODULE` or p11-kit's proxy.
    /// - Throws: ``CryptoError`` `pkcs11_unavailable`, `pkcs11_key_unavailable`, `key_unsupported`,
    ///   or `key_file_permissions`/`key_file_io` for a PIN file.
    init(_ uri: PKCS11URI, environment: [String: String]) throws {
        self.uri = uri
        let path = uri.moduleFile ?? environment["FOD_PKCS11_MODULE"].flatMap { $0.isEmpty ? nil : $0 } ?? PKCS11Module.defaultPath
        let module = try PKCS11Module.shared(path)
        self.module = module
        pin = try PKCS11Key.pin(for: uri, environment: environment).map { Array($0.utf8) }
        var (connection, session) = try PKCS11Key.connect(uri, module: module, pin: pin, generation: module.generation)
        do {
            let keyType = try PKCS11Key.attribute(module, session, connection.key, CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE))
            let type = keyType.withUnsafeBytes { $0.count >= MemoryLayout<CK_KEY_TYPE>.size ? $0.loadUnaligned(as: CK_KEY_TYPE.self) : CK_KEY_TYPE.max }
            switch type {
            case CK_KEY_TYPE(CKK_EC): algorithm = .es256
            case CK_KEY_TYPE(CKK_EC_EDWARDS): algorithm = .edDSA
            default: throw CryptoError(.keyUnsupported, "the key at \(uri.keyIdentifier) is neither an EC (P-256) nor an Ed25519 key")
            }
            publicKeySPKI = try PKCS11Key.publicKey(uri, module: module, session: session, algorithm: algorithm)
        } catch {
            fod_p11_close_session(module.pointer, session)
            throw error
        }
        // The session stays open in the pool: a token logs its user out when the last session closes.
        connection.idle = [session]
        state = Mutex(connection)
    }

    /// Signs `message`: the JWS-form signature (64 bytes for both algorithms).
    /// - Throws: ``CryptoError`` `pkcs11_token_unavailable` when the token cannot sign now.
    func sign(_ message: UnsafeRawBufferPointer) throws -> [UInt8] {
        let (session, key, generation) = try lease()
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        let rv: CK_RV
        switch algorithm {
        case .es256:
            let digest = SHA256.hash(Array(message))
            rv = fod_p11_sign(module.pointer, session, key, CK_MECHANISM_TYPE(CKM_ECDSA), digest, digest.count, &signature, &length)
        case .edDSA:
            rv = fod_p11_sign(module.pointer, session, key, CK_MECHANISM_TYPE(CKM_EDDSA),
                              message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &signature, &length)
        }
        guard rv == CKR_OK, length == 64 else {
            drop(session, generation: generation)
            throw CryptoError(.pkcs11TokenUnavailable,
                              "the token at \(uri.keyIdentifier) did not sign (\(rv == CKR_OK ? "a \(length)-byte signature" : PKCS11Module.name(rv))); the next signature tries to reach it again")
        }
        give(back: session, generation: generation)
        return signature
    }

    /// Whether the key can sign now, as far as the pool knows (a failed signature makes it `false`
    /// until a signature or ``probe()`` reconnects).
    var isConnected: Bool { state.withLock { $0 != nil } }

    /// Reaches for the token (reconnecting when the last signature failed) without signing:
    /// whether it is there.
    func probe() -> Bool {
        do {
            let (session, _, generation) = try lease()
            let slot = state.withLock { $0?.slot }
            guard let slot, fod_p11_check(module.pointer, slot, session) == CKR_OK else {
                drop(session, generation: generation)
                return false
            }
            give(back: session, generation: generation)
            return true
        } catch {
            return false
        }
    }

    /// An idle session (or a new one) with the key's handle, reconnecting first when the last
    /// signature failed.
    private func lease() throws -> (CK_SESSION_HANDLE, CK_OBJECT_HANDLE, Int) {
        try state.withLock { connection in
            if connection == nil || connection!.generation != module.generation {
                let seen = connection?.generation ?? module.generation
                connection = nil
                // The module is initialized again (unless another key of it did since), and the
                // token, the login and the key are found anew.
                let generation = try module.reinitialize(after: seen)
                let (fresh, session) = try PKCS11Key.connect(uri, module: module, pin: pin, generation: generation, failure: .pkcs11TokenUnavailable)
                connection = fresh
                return (session, fresh.key, fresh.generation)  // given back after the signature: the login stays
            }
            if let session = connection!.idle.popLast() { return (session, connection!.key, connection!.generation) }
            var session: CK_SESSION_HANDLE = 0
            let rv = fod_p11_open_session(module.pointer, connection!.slot, &session)
            guard rv == CKR_OK else {
                connection = nil
                throw CryptoError(.pkcs11TokenUnavailable, "no session with the token at \(uri.keyIdentifier) (\(PKCS11Module.name(rv)))")
            }
            return (session, connection!.key, connection!.generation)
        }
    }

    private func give(back session: CK_SESSION_HANDLE, generation: Int) {
        let kept = state.withLock { connection in
            guard connection?.generation == generation else { return false }
            connection!.idle.append(session)
            return true
        }
        if !kept { fod_p11_close_session(module.pointer, session) }
    }

    /// After a failed signature: the session is closed and the pool dropped (the next lease reconnects).
    private func drop(_ session: CK_SESSION_HANDLE, generation: Int) {
        let idle: [CK_SESSION_HANDLE] = state.withLock { connection in
            guard connection?.generation == generation else { return [] }
            let idle = connection!.idle
            connection = nil
            return idle
        }
        for other in idle + [session] { fod_p11_close_session(module.pointer, other) }
    }

    /// Finds the token and the private key, logs in: the connection, and a session the caller owns.
    private static func connect(_ uri: PKCS11URI, module: PKCS11Module, pin: [UInt8]?, generation: Int,
                                failure: CryptoError.Code = .pkcs11KeyUnavailable) throws -> (Connection, CK_SESSION_HANDLE) {
        var slot: CK_SLOT_ID = 0
        var found: Int32 = 0
        var rv = fod_p11_find_slot(module.pointer, uri.token, uri.serial, uri.manufacturer, uri.model, &slot, &found)
        guard rv == CKR_OK, found == 1 else {
            throw CryptoError(failure, "no token for \(uri.keyIdentifier) in the module\(rv == CKR_OK ? "" : " (\(PKCS11Module.name(rv)))")")
        }
        var session: CK_SESSION_HANDLE = 0
        rv = fod_p11_open_session(module.pointer, slot, &session)
        guard rv == CKR_OK else { throw CryptoError(failure, "no session with the token of \(uri.keyIdentifier) (\(PKCS11Module.name(rv)))") }
        do {
            if let pin {
                rv = fod_p11_login(module.pointer, session, pin.map { CChar(bitPattern: $0) }, pin.count)
                guard rv == CKR_OK else { throw CryptoError(failure, "the token of \(uri.keyIdentifier) refused the login (\(PKCS11Module.name(rv)))") }
            }
            let key = try find(uri, CK_OBJECT_CLASS(CKO_PRIVATE_KEY), module: module, session: session, failure: failure)
            return (Connection(generation: generation, slot: slot, key: key, idle: []), session)
        } catch {
            fod_p11_close_session(module.pointer, session)
            throw error
        }
    }

    /// The one object of `objectClass` with the URI's label and id.
    private static func find(_ uri: PKCS11URI, _ objectClass: CK_OBJECT_CLASS, module: PKCS11Module, session: CK_SESSION_HANDLE,
                             failure: CryptoError.Code = .pkcs11KeyUnavailable) throws -> CK_OBJECT_HANDLE {
        var handle: CK_OBJECT_HANDLE = 0
        var count: Int32 = 0
        let id = uri.id ?? []
        let rv = id.withUnsafeBufferPointer { bytes in
            fod_p11_find(module.pointer, session, objectClass, uri.object, uri.id == nil ? nil : bytes.baseAddress, bytes.count, &handle, &count)
        }
        let what = objectClass == CK_OBJECT_CLASS(CKO_PRIVATE_KEY) ? "private" : "public"
        guard rv == CKR_OK else { throw CryptoError(failure, "the \(what) key at \(uri.keyIdentifier) could not be looked for (\(PKCS11Module.name(rv)))") }
        guard count == 1 else {
            throw CryptoError(failure, count == 0 ? "no \(what) key at \(uri.keyIdentifier) (wrong token, label, id or PIN)"
                                                  : "more than one \(what) key at \(uri.keyIdentifier): name it by label and id")
        }
        return handle
    }

    private static func attribute(_ module: PKCS11Module, _ session: CK_SESSION_HANDLE, _ object: CK_OBJECT_HANDLE, _ type: CK_ATTRIBUTE_TYPE) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 256)
        var length = buffer.count
        var rv = fod_p11_attribute(module.pointer, session, object, type, &buffer, &length)
        if rv == CKR_BUFFER_TOO_SMALL, length <= 1 << 16 {
            buffer = [UInt8](repeating: 0, count: length)
            rv = fod_p11_attribute(module.pointer, session, object, type, &buffer, &length)
        }
        guard rv == CKR_OK else { throw CryptoError(.pkcs11KeyUnavailable, "the token did not give attribute 0x\(String(type, radix: 16)) (\(PKCS11Module.name(rv)))") }
        return Array(buffer.prefix(length))
    }

    /// The public key object beside the private one, as SubjectPublicKeyInfo DER.
    private static func publicKey(_ uri: PKCS11URI, module: PKCS11Module, session: CK_SESSION_HANDLE, algorithm: SigningAlgorithm) throws -> [UInt8] {
        let object: CK_OBJECT_HANDLE
        do { object = try find(uri, CK_OBJECT_CLASS(CKO_PUBLIC_KEY), module: module, session: session) } catch {
            throw CryptoError(.pkcs11KeyUnavailable, "the token has no public key beside the private key at \(uri.keyIdentifier)")
        }
        var point = try attribute(module, session, object, CK_ATTRIBUTE_TYPE(CKA_EC_POINT))
        // CKA_EC_POINT is the point in a DER OCTET STRING (some modules give it bare).
        let size = algorithm == .es256 ? 65 : 32
        if point.count == size + 2, point[0] == 0x04, Int(point[1]) == size { point.removeFirst(2) }
        guard point.count == size else { throw CryptoError(.keyUnsupported, "the public key at \(uri.keyIdentifier) is not a \(algorithm) key") }
        switch algorithm {
        case .es256:
            guard point[0] == 0x04 else { throw CryptoError(.keyUnsupported, "the public key at \(uri.keyIdentifier) is not an uncompressed P-256 point") }
            return [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07,
                    0x03, 0x42, 0x00] + point
        case .edDSA:
            return [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00] + point
        }
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
