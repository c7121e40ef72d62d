extension String {
    /// The text made safe inside HTML or XML element content and quoted attribute values:
    /// `&`, `<`, `>`, `"` and `'` as character references. The one definition of markup escaping
    /// (the report's HTML, the QR code's SVG).
    public var markupEscaped: String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for character in self {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
