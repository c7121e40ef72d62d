import COpenSSL

/// HMAC-SHA256 (RFC 2104) through OpenSSL.
public enum HMACSHA256 {
    /// The 32-byte MAC of `message` under `key`.
    public static func mac(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        let keyBytes = Array(key), input = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = keyBytes.withUnsafeBytes { k in
            input.withUnsafeBytes { m in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(FetchedDigest.sha256.pointer, k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                         o.baseAddress, &length)
                }
            }
        }
        // HMAC with SHA-256 only fails on allocation failure.
        precondition(result != nil && length == 32, "HMAC-SHA256 failed: \(OpenSSLErrorQueue.drain())")
        return out
    }

    /// Constant-time equality of two MACs (or any byte strings of public length).
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let x = Array(a), y = Array(b)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<x.count { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
