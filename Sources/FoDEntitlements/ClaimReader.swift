/// Reads typed claims out of a payload object, with one error code per kind of failure.
struct ClaimReader {
    let object: JSONObject
    /// What the object is called in messages ("claims", "manifest entry 3").
    let context: String

    /// Checks that every member is one of `allowed`.
    init(_ object: JSONObject, allowed: Set<String>, context: String = "claims") throws {
        for member in object.members where !allowed.contains(member.name) {
            throw EntitlementError(.claimUnknown, "\(context) contain \"\(member.name.prefix(40))\", which fod does not define")
        }
        self.object = object
        self.context = context
    }

    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw missing(name) }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        guard let value = object[name] else { return nil }
        guard case .string(let text) = value else { throw wrongType(name, value, "a string") }
        return text
    }

    /// A non-negative integer (NumericDate or version), written without fraction or exponent.
    func integer(_ name: String) throws -> Int64 {
        guard let value = try optionalInteger(name) else { throw missing(name) }
        return value
    }

    func optionalInteger(_ name: String) throws -> Int64? {
        guard let value = object[name] else { return nil }
        guard case .number = value else { throw wrongType(name, value, "an integer") }
        guard let integer = value.int64, integer >= 0 else {
            throw EntitlementError(.claimType, "\(context): \"\(name)\" must be a non-negative integer without fraction or exponent")
        }
        return integer
    }

    func array(_ name: String) throws -> [JSONValue] {
        guard let value = object[name] else { throw missing(name) }
        guard case .array(let elements) = value else { throw wrongType(name, value, "an array") }
        return elements
    }

    /// Runs a domain validation and reports its failure as `claim_invalid` for `name`.
    func validated<T>(_ name: String, _ make: () throws -> T) throws -> T {
        do { return try make() } catch let error as EntitlementError {
            throw EntitlementError(.claimInvalid, "\(context): \"\(name)\": \(error.reason)")
        }
    }

    private func missing(_ name: String) -> EntitlementError {
        EntitlementError(.claimMissing, "\(context) lack the required \"\(name)\"")
    }

    private func wrongType(_ name: String, _ value: JSONValue, _ expected: String) -> EntitlementError {
        EntitlementError(.claimType, "\(context): \"\(name)\" is \(value.typeName), expected \(expected)")
    }
}
