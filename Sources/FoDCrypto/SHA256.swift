import COpenSSL

/// SHA-256 through OpenSSL EVP.
public enum SHA256 {
    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = input.withUnsafeBytes { raw in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(raw.baseAddress, raw.count, out.baseAddress, &length, FetchedDigest.sha256.pointer, nil)
            }
        }
        // EVP_Digest with a fetched SHA-256 only fails on allocation failure.
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed: \(OpenSSLErrorQueue.drain())")
        return digest
    }

    /// The digest as lowercase hex.
    public static func hexHash(_ bytes: some Collection<UInt8>) -> String {
        Hex.encode(hash(bytes))
    }
}
