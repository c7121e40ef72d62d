/// The one rule for text shown to people and stored with signed or financial records (a
/// vehicle's model, an equipment code, a label, a reason, a party's name): 1 to `maxLength`
/// characters, not only white space, none of them a control character (NUL included), a format
/// character (which includes the bidirectional overrides that can make text read differently than
/// it is stored), a line or paragraph separator, a surrogate, a private-use or an unassigned code
/// point. Each module throws its own error with the sentence ``violation(in:_:maxLength:)`` gives.
public enum DisplayText {
    /// Why `text` breaks the rule, as a sentence naming `field`; `nil` when it keeps it.
    public static func violation(in text: String, _ field: String, maxLength: Int) -> String? {
        let count = text.count
        guard count >= 1, count <= maxLength else { return "\(field) must be 1 to \(maxLength) characters, it has \(count)" }
        guard !text.allSatisfy(\.isWhitespace) else { return "\(field) must not be only white space" }
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                return "\(field) contains the invisible or control character U+\(String(scalar.value, radix: 16, uppercase: true))"
            default: continue
            }
        }
        return nil
    }

    /// `text` made safe to repeat in an error message: at most `maxLength` characters, every
    /// character outside printable ASCII written as `?`.
    public static func sanitized(_ text: String, maxLength: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(maxLength).map { (0x20...0x7E).contains($0.value) ? $0 : "?" }))
    }
}
