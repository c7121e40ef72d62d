/// A PKCS#11 URI (RFC 7512) naming a private key in a token, e.g.
/// `pkcs11:token=fod;object=issuing-2027?pin-source=file:/etc/fod/pin&module-path=/usr/lib/softhsm/libsofthsm2.so`.
///
/// Parsed strictly: the scheme `pkcs11:`, path attributes separated by `;`, query attributes by
/// `&`, each at most once, values percent-encoded where RFC 3986 requires it; an unknown attribute
/// (other than a vendor's `x-…`) is refused rather than ignored, so a typo cannot select another key.
/// The key must be named by `object` or `id` (a token would otherwise give whichever key it
/// lists last), and `type`, when given, must be `private`.
///
/// Its ``description`` never shows the PIN.
public struct PKCS11URI: Sendable, Hashable, CustomStringConvertible {
    /// `token`: the token label.
    public let token: String?
    /// `manufacturer`: the token's manufacturer.
    public let manufacturer: String?
    /// `serial`: the token's serial number.
    public let serial: String?
    /// `model`: the token's model.
    public let model: String?
    /// `object`: the key's label (`CKA_LABEL`).
    public let object: String?
    /// `id`: the key's `CKA_ID` bytes.
    public let id: [UInt8]?
    /// `pin-source`: where the PIN is, a file (`file:/path` or `/path`).
    public let pinSource: String?
    /// `module-path`: the PKCS#11 module (a shared library), or the folder that holds `module-name`.
    public let modulePath: String?
    /// `module-name`: the module's file name without `lib` and the extension (with `module-path` a folder).
    public let moduleName: String?
    /// `pin-value`: the PIN itself. RFC 7512 allows it; prefer `pin-source` or the environment,
    /// which keep the PIN out of the process list and shell history.
    let pinValue: String?

    /// The path attributes fod matches a token and key on.
    private static let pathAttributes: Set<String> = ["token", "manufacturer", "serial", "model", "object", "id", "type"]
    /// Path attributes RFC 7512 defines that fod does not match on (a slot's id changes between starts).
    private static let unsupportedPathAttributes: Set<String> = [
        "library-manufacturer", "library-description", "library-version", "slot-manufacturer", "slot-description", "slot-id",
    ]
    private static let queryAttributes: Set<String> = ["pin-source", "pin-value", "module-name", "module-path"]

    /// Parses a PKCS#11 URI.
    /// - Throws: ``CryptoError`` `pkcs11_uri_malformed` (syntax, an unknown or repeated attribute,
    ///   no `object` or `id`, a `type` other than `private`) or `pkcs11_uri_unsupported` (an
    ///   attribute fod does not match on).
    public init(_ text: String) throws {
        guard text.hasPrefix("pkcs11:") else { throw Self.malformed("it does not start with 'pkcs11:'") }
        let rest = text.dropFirst("pkcs11:".count)
        let pathText: Substring, queryText: Substring?
        if let question = rest.firstIndex(of: "?") {
            pathText = rest[..<question]
            queryText = rest[rest.index(after: question)...]
        } else {
            pathText = rest
            queryText = nil
        }
        let path = try Self.attributes(pathText, separator: ";", part: "path")
        let query = try queryText.map { try Self.attributes($0, separator: "&", part: "query") } ?? [:]
        for name in path.keys where !Self.pathAttributes.contains(name) && !name.hasPrefix("x-") {
            if Self.unsupportedPathAttributes.contains(name) {
                throw CryptoError(.pkcs11URIUnsupported, "fod does not select a key by '\(name)'; name it by token, object or id")
            }
            throw Self.malformed("unknown path attribute '\(name)'")
        }
        for name in query.keys where !Self.queryAttributes.contains(name) && !name.hasPrefix("x-") {
            throw Self.malformed("unknown query attribute '\(name)'")
        }
        func string(_ name: String, in attributes: [String: [UInt8]]) throws -> String? {
            guard let bytes = attributes[name] else { return nil }
            guard let value = String(validating: bytes, as: UTF8.self) else { throw Self.malformed("'\(name)' is not UTF-8") }
            guard !value.isEmpty else { throw Self.malformed("'\(name)' is empty") }
            return value
        }
        token = try string("token", in: path)
        manufacturer = try string("manufacturer", in: path)
        serial = try string("serial", in: path)
        model = try string("model", in: path)
        object = try string("object", in: path)
        id = path["id"]
        if let id, id.isEmpty { throw Self.malformed("'id' is empty") }
        if let type = try string("type", in: path), type != "private" {
            throw Self.malformed("type=\(type): a signing key is type=private")
        }
        guard object != nil || id != nil else {
            throw Self.malformed("name the key with 'object' (its label) or 'id'")
        }
        pinSource = try string("pin-source", in: query)
        pinValue = try string("pin-value", in: query)
        if pinSource != nil, pinValue != nil { throw Self.malformed("give 'pin-source' or 'pin-value', not both") }
        modulePath = try string("module-path", in: query)
        moduleName = try string("module-name", in: query)
        if let modulePath, !modulePath.hasPrefix("/") { throw Self.malformed("'module-path' must be an absolute path") }
        if moduleName != nil, modulePath == nil { throw Self.malformed("'module-name' needs 'module-path', the folder that holds it") }
        if let moduleName, moduleName.contains("/") { throw Self.malformed("'module-name' is a name, not a path") }
    }

    /// The URI as messages name the key: the path attributes that select it, never the PIN.
    public var keyIdentifier: String {
        var parts: [String] = []
        if let token { parts.append("token=" + Self.encode(Array(token.utf8))) }
        if let manufacturer { parts.append("manufacturer=" + Self.encode(Array(manufacturer.utf8))) }
        if let serial { parts.append("serial=" + Self.encode(Array(serial.utf8))) }
        if let model { parts.append("model=" + Self.encode(Array(model.utf8))) }
        if let object { parts.append("object=" + Self.encode(Array(object.utf8))) }
        if let id { parts.append("id=" + id.map { "%" + Self.hexByte($0) }.joined()) }
        parts.append("type=private")
        return "pkcs11:" + parts.joined(separator: ";")
    }

    /// The key's URI without the PIN (`pin-source` and `module-path` are shown; they are not secret).
    public var description: String {
        var query: [String] = []
        if let modulePath { query.append("module-path=" + Self.encode(Array(modulePath.utf8), keeping: "/")) }
        if let moduleName { query.append("module-name=" + Self.encode(Array(moduleName.utf8))) }
        if let pinSource { query.append("pin-source=" + Self.encode(Array(pinSource.utf8), keeping: "/:")) }
        return query.isEmpty ? keyIdentifier : keyIdentifier + "?" + query.joined(separator: "&")
    }

    /// The module file: `module-path`, or `module-name` in the folder `module-path`.
    var moduleFile: String? {
        guard let modulePath else { return nil }
        guard let moduleName else { return modulePath }
        return modulePath.hasSuffix("/") ? "\(modulePath)lib\(moduleName).so" : "\(modulePath)/lib\(moduleName).so"
    }

    private static func attributes(_ text: Substring, separator: Character, part: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        guard !text.isEmpty else { return result }
        for item in text.split(separator: separator, omittingEmptySubsequences: false) {
            guard let equals = item.firstIndex(of: "=") else { throw malformed("\(part) attribute '\(item)' has no '='") }
            let name = String(item[..<equals])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
                throw malformed("'\(name)' is not an attribute name")
            }
            guard result[name] == nil else { throw malformed("'\(name)' is given twice") }
            result[name] = try decode(item[item.index(after: equals)...], name: name)
        }
        return result
    }

    private static func decode(_ value: Substring, name: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var utf8 = Array(value.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let high = hexValue(utf8.removeFirst()), let low = hexValue(utf8.removeFirst()) else {
                    throw malformed("'\(name)' has a '%' not followed by two hex digits")
                }
                bytes.append(high << 4 | low)
            } else {
                guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "#") else {
                    throw malformed("'\(name)' has a character that must be percent-encoded")
                }
                bytes.append(byte)
            }
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// Percent-encodes all but RFC 3986 unreserved characters (and those in `keeping`).
    private static func encode(_ bytes: [UInt8], keeping: String = "") -> String {
        let kept = Set(keeping.utf8)
        var text = ""
        for byte in bytes {
            let unreserved = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-._~".utf8.contains(byte)
            if unreserved || kept.contains(byte) {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "%" + hexByte(byte)
            }
        }
        return text
    }

    private static func malformed(_ reason: String) -> CryptoError {
        CryptoError(.pkcs11URIMalformed, "PKCS#11 URI: \(reason)")
    }
}
