import COpenSSL

/// Random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    /// `count` random bytes.
    ///
    /// OpenSSL's DRBG only fails when it cannot be seeded, which leaves nothing safe to do:
    /// that is a precondition failure, never a silent fallback to weaker randomness.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(ok == 1, "RAND_bytes failed: \(OpenSSLErrorQueue.drain())")
        return out
    }
}
