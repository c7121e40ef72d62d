import COpenSSL

/// OpenSSL's one-time library set-up, done before fod's first OpenSSL call.
///
/// libcrypto loads its configuration file only when asked, and the code a PKCS#11 key brings in
/// (OpenSSL's pkcs11 engine, SoftHSM) asks for it — with `OPENSSL_init_crypto(…LOAD_CONFIG…)`,
/// which also adds the file's `new_oids` to the object table — whenever it starts. Started while
/// other threads were using OpenSSL, that left the process's EC operations failing for good
/// (`unknown group`, `reading key parameter qx failed`; seen in the test process, where tests run
/// side by side: OpenSSL 3.0's object table is not locked). Doing the whole set-up first, once,
/// makes every later request for it a no-op.
enum OpenSSLLibrary {
    /// Evaluated once, on first use, by every FoDCrypto path that calls OpenSSL first (digests,
    /// key generation, key parsing, the PKCS#11 engine).
    static let initialized: Void = {
        let options = UInt64(OPENSSL_INIT_LOAD_CONFIG) | UInt64(OPENSSL_INIT_ADD_ALL_CIPHERS) | UInt64(OPENSSL_INIT_ADD_ALL_DIGESTS)
        // Fails only on allocation failure; the first OpenSSL call after it would report that too.
        _ = OPENSSL_init_crypto(options, nil)
    }()
}
