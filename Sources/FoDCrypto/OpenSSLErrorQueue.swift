import COpenSSL

/// Reads OpenSSL's per-thread error queue.
enum OpenSSLErrorQueue {
    /// Empties the queue and returns its entries as text, oldest first.
    ///
    /// Every failing OpenSSL call is followed by a drain, so nothing is left on the queue
    /// to be blamed on the next call.
    static func drain() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            messages.append(message)
        }
        return messages
    }

    /// Drains the queue into a ``CryptoError``.
    static func error(_ code: CryptoError.Code, _ what: String) -> CryptoError {
        let queue = drain()
        if queue.isEmpty { return CryptoError(code, what) }
        return CryptoError(code, "\(what) (\(queue.joined(separator: "; ")))")
    }

    /// Discards the queue: used where a failure is an expected answer (an invalid signature).
    static func clear() {
        ERR_clear_error()
    }
}
