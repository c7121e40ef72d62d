import FoDCore
import FoDEntitlements

extension RuleSet {
    /// Reads a rules file (JSON), refusing unknown fields, wrong types and out-of-range numbers
    /// with a message that names the rule.
    /// - Throws: ``RevenueError`` `rules_invalid`.
    public init(json text: String) throws {
        let root: JSONValue
        do { root = try JSONParser.parse(text) } catch let error as EntitlementError {
            throw RevenueError(.rulesInvalid, "the rules file is not valid JSON: \(error.reason)")
        }
        guard case .object(let object) = root else { throw RevenueError(.rulesInvalid, "the rules file must be a JSON object") }
        try self.init(object: object)
    }

    /// Reads a rules document already parsed; `extra` names members a containing format adds
    /// (a plan version's `effective_from` and `model`), read by the caller.
    /// - Throws: ``RevenueError`` `rules_invalid`.
    public init(object: JSONObject, extra: Set<String> = [], context: String = "the rules file") throws {
        let top = try Fields(object, allowed: Set(["version", "clawback_days", "rules", "tiers"]).union(extra), context: context)
        let version = try top.string("version")
        let clawbackDays = try top.integer("clawback_days")
        var rules: [Rule] = []
        for (index, element) in try top.array("rules").enumerated() {
            guard case .object(let ruleObject) = element else { throw RevenueError(.rulesInvalid, "rule \(index + 1) is not an object") }
            let label = ruleObject["id"]?.string.map { "rule \"\($0)\"" } ?? "rule \(index + 1)"
            let fields = try Fields(ruleObject, allowed: ["id", "feature", "channel", "market", "term", "dealer_id", "share_bps", "fixed_minor", "cap_minor"],
                                    context: label)
            rules.append(Rule(
                id: try fields.string("id"),
                feature: try fields.optional("feature") { try FeatureCode($0) },
                channel: try fields.optional("channel") { try Channel(validating: $0) },
                market: try fields.optional("market") { try Market($0) },
                term: try fields.optional("term") { try Term(validating: $0) },
                dealer: try fields.optional("dealer_id") { try DealerID($0) },
                shareBps: try fields.integer("share_bps"),
                fixedMinor: try fields.optionalInteger("fixed_minor") ?? 0,
                capMinor: try fields.optionalInteger("cap_minor")))
        }
        var tiers: [Tier] = []
        if object["tiers"] != nil {
            for (index, element) in try top.array("tiers").enumerated() {
                guard case .object(let tierObject) = element else { throw RevenueError(.rulesInvalid, "tier \(index + 1) is not an object") }
                let fields = try Fields(tierObject, allowed: ["min_activations", "bonus_bps"], context: "tier \(index + 1)")
                tiers.append(Tier(minActivations: try fields.integer("min_activations"), bonusBps: try fields.integer("bonus_bps")))
            }
        }
        try self.init(version: version, clawbackDays: clawbackDays, rules: rules, tiers: tiers)
    }

    /// Typed access to an object's members with messages naming the object.
    private struct Fields {
        let object: JSONObject
        let context: String

        init(_ object: JSONObject, allowed: Set<String>, context: String) throws {
            for member in object.members where !allowed.contains(member.name) {
                throw RevenueError(.rulesInvalid, "\(context): unknown field \"\(member.name.prefix(40))\" (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            self.object = object
            self.context = context
        }

        func string(_ name: String) throws -> String {
            guard let value = object[name] else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" is required") }
            guard case .string(let text) = value, !text.isEmpty else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" must be a non-empty string") }
            return text
        }

        func integer(_ name: String) throws -> Int64 {
            guard let value = try optionalInteger(name) else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" is required") }
            return value
        }

        func optionalInteger(_ name: String) throws -> Int64? {
            guard let value = object[name] else { return nil }
            guard let integer = value.int64 else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" must be an integer") }
            guard integer >= 0 else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" is \(integer); it must not be negative") }
            return integer
        }

        func array(_ name: String) throws -> [JSONValue] {
            guard let value = object[name] else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" is required") }
            guard case .array(let elements) = value else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" must be an array") }
            return elements
        }

        func optional<T>(_ name: String, _ make: (String) throws -> T) throws -> T? {
            guard let value = object[name] else { return nil }
            guard case .string(let text) = value else { throw RevenueError(.rulesInvalid, "\(context): \"\(name)\" must be a string") }
            do { return try make(text) } catch let error as any CodedError {
                throw RevenueError(.rulesInvalid, "\(context): \(error.reason)")
            }
        }
    }
}

extension RuleSet {
    /// The rules as the document ``init(json:)`` reads (members in a fixed order).
    public var json: String {
        func number(_ value: Int64) -> JSONValue { .number(String(value)) }
        let rules = self.rules.map { rule -> JSONValue in
            var members: [JSONObject.Member] = [.init(name: "id", value: .string(rule.id))]
            if let feature = rule.feature { members.append(.init(name: "feature", value: .string(feature.value))) }
            if let channel = rule.channel { members.append(.init(name: "channel", value: .string(channel.rawValue))) }
            if let market = rule.market { members.append(.init(name: "market", value: .string(market.code))) }
            if let term = rule.term { members.append(.init(name: "term", value: .string(term.rawValue))) }
            if let dealer = rule.dealer { members.append(.init(name: "dealer_id", value: .string(dealer.value))) }
            members.append(.init(name: "share_bps", value: number(rule.shareBps)))
            if rule.fixedMinor != 0 { members.append(.init(name: "fixed_minor", value: number(rule.fixedMinor))) }
            if let cap = rule.capMinor { members.append(.init(name: "cap_minor", value: number(cap))) }
            return .object(JSONObject(members: members))
        }
        let tiers = self.tiers.map { tier -> JSONValue in
            .object(JSONObject(members: [.init(name: "min_activations", value: number(tier.minActivations)), .init(name: "bonus_bps", value: number(tier.bonusBps))]))
        }
        return JSONWriter.text(.object(JSONObject(members: [
            .init(name: "version", value: .string(version)), .init(name: "clawback_days", value: number(clawbackDays)),
            .init(name: "rules", value: .array(rules)), .init(name: "tiers", value: .array(tiers)),
        ])))
    }
}
