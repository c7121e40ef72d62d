/// A caller-chosen token that lands in the database or in logs (an idempotency key, a request id):
/// 1 to `maxLength` visible ASCII characters, so it cannot smuggle spaces, control characters or
/// line breaks.
public enum VisibleToken {
    /// Whether `text` is 1 to `maxLength` visible ASCII characters.
    public static func isValid(_ text: String, maxLength: Int) -> Bool {
        (1...maxLength).contains(text.utf8.count) && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
