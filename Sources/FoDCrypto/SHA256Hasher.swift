import COpenSSL

/// SHA-256 over data that arrives in pieces (a file read in chunks).
///
/// Not `Sendable`: one hasher belongs to one task at a time.
public final class SHA256Hasher {
    private let context: OpaquePointer

    /// A hasher with nothing hashed yet.
    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, FetchedDigest.sha256.pointer, nil) == 1 else {
            // Only allocation failure gets here; nothing sensible can go on without memory.
            preconditionFailure("EVP_DigestInit_ex(SHA-256) failed: \(OpenSSLErrorQueue.drain())")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let ok = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
        precondition(ok == 1, "EVP_DigestUpdate failed: \(OpenSSLErrorQueue.drain())")
    }

    /// The digest of everything added, as lowercase hex. The hasher cannot be used afterwards.
    public func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && length == 32, "EVP_DigestFinal_ex failed: \(OpenSSLErrorQueue.drain())")
        return Hex.encode(digest)
    }
}
