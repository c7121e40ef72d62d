import FoDCore
import FoundationEssentials

/// A JSON document type read strictly: ``StrictJSON`` refuses a member outside ``members`` before
/// the type's own decoding runs.
public protocol StrictDecodable: Decodable {
    /// Every member name the document may have.
    static var members: Set<String> { get }
}

extension StrictDecodable where Self: CodingKeyed, Self.Keys: CaseIterable {
    public static var members: Set<String> { Set(Keys.allCases.map(\.stringValue)) }
}

/// A type whose members are the cases of a `CodingKey` enum (so ``StrictDecodable/members`` comes from it).
public protocol CodingKeyed {
    associatedtype Keys: CodingKey
}

/// Strict JSON documents under `Codable`: fod's own parser first (a duplicate member or broken JSON
/// is refused — Foundation's decoder would take the last duplicate), members checked against the
/// type, then ``JSONValueDecoder`` on the parsed value with the decoding errors turned into stable codes.
public enum StrictJSON {
    /// Decodes `type` from a request body or file.
    /// - Throws: ``EntitlementError`` `json_malformed` / `json_duplicate_member` (not JSON),
    ///   `request_invalid` (not an object), `field_unknown`, `field_missing`, `field_type`, or the
    ///   error of a member's validated type (`vin_malformed`, `market_invalid`, …).
    public static func decode<T: StrictDecodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard case .object(let object) = try JSONParser.parse(bytes) else {
            throw EntitlementError(.requestInvalid, "the document must be a JSON object")
        }
        return try decode(type, parsed: object)
    }

    /// Decodes `type` from an object already parsed (a request body, an element of a list).
    public static func decode<T: StrictDecodable>(_ type: T.Type, from object: JSONObject) throws -> T {
        try decode(type, parsed: object)
    }

    private static func decode<T: StrictDecodable>(_ type: T.Type, parsed object: JSONObject) throws -> T {
        for member in object.members where !T.members.contains(member.name) {
            throw EntitlementError(.fieldUnknown, "unknown field \"\(member.name.prefix(40))\"; allowed: \(T.members.sorted().joined(separator: ", "))")
        }
        do { return try JSONValueDecoder().decode(T.self, from: .object(object)) } catch let error as DecodingError {
            throw fieldError(error)
        }
    }

    /// A decoding error as the member it concerns: missing, or of the wrong type.
    static func fieldError(_ error: DecodingError) -> EntitlementError {
        func name(_ path: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            (path + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacing(".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return EntitlementError(.fieldMissing, "\"\(name(context.codingPath, key))\" is required")
        case .typeMismatch(let expected, let context), .valueNotFound(let expected, let context):
            return EntitlementError(.fieldType, "\"\(name(context.codingPath))\" must be \(describe(expected))")
        case .dataCorrupted(let context):
            return EntitlementError(.fieldType, "\"\(name(context.codingPath))\": \(context.debugDescription)")
        @unknown default:
            return EntitlementError(.fieldType, "the document does not have the expected shape")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is [String].Type: "an array of strings"
        default: "of another type"
        }
    }
}

extension KeyedDecodingContainer {
    /// A member that is a strict document itself (``StrictJSON``: unknown members refused), its
    /// errors naming the member (`consent: "terms_version" is required`).
    /// - Throws: ``EntitlementError`` `field_type` when it is not an object, or the document's error.
    public func decodeStrict<T: StrictDecodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard case .object(let object) = try decode(JSONValue.self, forKey: key) else {
            throw EntitlementError(.fieldType, "\"\(key.stringValue)\" must be an object")
        }
        do { return try StrictJSON.decode(type, from: object) } catch let error as EntitlementError {
            throw EntitlementError(error.code, "\(key.stringValue): \(error.reason)")
        }
    }

    /// An instant member, RFC 3339 text, as Unix seconds; `nil` when absent or `null`.
    /// - Throws: ``EntitlementError`` `request_invalid` naming the member, `field_type` when not a string.
    public func decodeInstantIfPresent(forKey key: Key, nullAllowed: Bool = true) throws -> Int64? {
        if !nullAllowed, contains(key), try decodeNil(forKey: key) {
            throw EntitlementError(.fieldType, "\(key.stringValue) is an RFC 3339 instant or absent, not null")
        }
        return try decodeIfPresent(String.self, forKey: key).map { text in
            do { return try Instant(rfc3339: text).unixSeconds } catch {
                throw EntitlementError(.requestInvalid, "\(key.stringValue) is not an RFC 3339 instant such as 2026-11-03T09:15:00Z")
            }
        }
    }

    /// ``decodeStrict(_:forKey:)`` for a member that may be absent or `null`.
    public func decodeStrictIfPresent<T: StrictDecodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeStrict(type, forKey: key)
    }
}
