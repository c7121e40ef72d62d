import FoDCore
import FoDEntitlements

/// What a plan version pays under: the agency commission, a referral fee (both computed by its
/// rules), or nothing (the dealer model: the dealer buys and resells, fod pays no commission).
public enum PlanModel: String, Sendable, Hashable, CaseIterable {
    case agency
    case referral
    case none
}

/// One version of a commission plan: its rules, in force from ``effectiveFrom`` until the next.
public struct PlanVersion: Sendable, Hashable {
    /// From when (Unix seconds); `Int64.min`: always before the next one.
    public let effectiveFrom: Int64
    public let model: PlanModel
    /// The rules as written (for `none`, what pricing uses is a zero catch-all: ``pricing``).
    public let rules: RuleSet

    public init(effectiveFrom: Int64, model: PlanModel, rules: RuleSet) {
        self.effectiveFrom = effectiveFrom
        self.model = model
        self.rules = rules
    }

    /// The rules events are priced by: the version's own, or for model `none` one catch-all of 0.
    public var pricing: RuleSet {
        guard model == .none else { return rules }
        // A catch-all with no share is always valid.
        return (try? RuleSet(version: rules.version, clawbackDays: rules.clawbackDays, rules: [Rule(id: "none", shareBps: 0)])) ?? rules
    }
}

/// A commission plan over time (docs/revenue-share.md, "Plans"): versions with effective dates.
/// Each activation is priced by the version in force at its instant (its clawback too, with that
/// version's window); a month's tier bonus by the version in force at the month's first instant.
public struct Plan: Sendable, Hashable {
    /// The plan's id (`network` by default; a file without one is `rules`).
    public let id: String
    /// Oldest first.
    public let versions: [PlanVersion]

    /// - Throws: ``RevenueError`` `rules_invalid`: no version, two at one instant, two with one label.
    public init(id: String, versions: [PlanVersion]) throws {
        guard (try? DealerID(id)) != nil else { throw RevenueError(.rulesInvalid, "plan id \"\(id.prefix(70))\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}") }
        guard !versions.isEmpty else { throw RevenueError(.rulesInvalid, "a plan needs at least one version") }
        let sorted = versions.sorted { $0.effectiveFrom < $1.effectiveFrom }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.effectiveFrom == b.effectiveFrom {
            throw RevenueError(.rulesInvalid, "versions \(a.rules.version) and \(b.rules.version) take effect at the same instant")
        }
        guard Set(sorted.map(\.rules.version)).count == sorted.count else { throw RevenueError(.rulesInvalid, "two versions have the same \"version\"") }
        self.id = id
        self.versions = sorted
    }

    /// Today's single rules file as a plan of one version, in force always.
    public static func single(_ rules: RuleSet) -> Plan {
        // One version, an id that validates: cannot fail.
        try! Plan(id: "rules", versions: [PlanVersion(effectiveFrom: Int64.min, model: .agency, rules: rules)])
    }

    /// The index of the version in force at `nanos` (ns since the epoch); before the first: the first.
    public func versionIndex(atNanos nanos: Int64) -> Int {
        guard versions.count > 1 else { return 0 }
        let seconds = nanos >= 0 ? nanos / 1_000_000_000 : (nanos + 1) / 1_000_000_000 - 1
        return versions.lastIndex { $0.effectiveFrom <= seconds } ?? 0
    }

    /// The version in force at `seconds` (Unix seconds).
    public func version(at seconds: Int64) -> PlanVersion {
        versions.last { $0.effectiveFrom <= seconds } ?? versions[0]
    }

    /// Reads a plan file: `{"plan": ID, "versions": [rules document + "effective_from" (RFC 3339) + "model"?, …]}`.
    /// - Throws: ``RevenueError`` `rules_invalid` naming the version.
    public init(json text: String) throws {
        let root: JSONValue
        do { root = try JSONParser.parse(text) } catch let error as EntitlementError {
            throw RevenueError(.rulesInvalid, "the plan file is not valid JSON: \(error.reason)")
        }
        guard case .object(let object) = root, let id = object["plan"]?.string, case .array(let list)? = object["versions"] else {
            throw RevenueError(.rulesInvalid, "a plan file is {\"plan\": ID, \"versions\": [...]}")
        }
        if let unknown = object.members.first(where: { !["plan", "versions"].contains($0.name) }) {
            throw RevenueError(.rulesInvalid, "the plan file: unknown member \"\(unknown.name.prefix(40))\"")
        }
        var versions: [PlanVersion] = []
        for (index, element) in list.enumerated() {
            guard case .object(let version) = element else { throw RevenueError(.rulesInvalid, "version \(index + 1) is not an object") }
            versions.append(try PlanVersion(object: version, context: "version \(index + 1)"))
        }
        try self.init(id: id, versions: versions)
    }

    /// The label of the versions in force during `[start, end)` (ns): one version's label, or several joined by `+`.
    public func label(from start: Int64, to end: Int64) -> String {
        let first = versionIndex(atNanos: start), last = versionIndex(atNanos: end - 1)
        return versions[first...max(first, last)].map(\.rules.version).joined(separator: "+")
    }
}

extension PlanVersion {
    /// A rules document with `effective_from` (RFC 3339) and `model` (default `agency`).
    /// - Throws: ``RevenueError`` `rules_invalid`.
    public init(object: JSONObject, context: String) throws {
        let rules = try RuleSet(object: object, extra: ["effective_from", "model"], context: context)
        guard let text = object["effective_from"]?.string, let from = try? Instant(rfc3339: text) else {
            throw RevenueError(.rulesInvalid, "\(context): \"effective_from\" (RFC 3339) is required")
        }
        var model = PlanModel.agency
        if let value = object["model"] {
            guard let text = value.string, let parsed = PlanModel(rawValue: text) else {
                throw RevenueError(.rulesInvalid, "\(context): \"model\" is agency, referral or none")
            }
            model = parsed
        }
        self.init(effectiveFrom: from.unixSeconds, model: model, rules: rules)
    }
}

/// The plans that price a month: the network's, and partners' own contracts by the sites they
/// apply to (a site without one is priced by the network's plan).
public struct PlanSet: Sendable, Hashable {
    public let network: Plan
    /// Partner plans, and for each site the index in ``partnerPlans`` of the plan that prices it.
    public let partnerPlans: [Plan]
    public let siteIndex: [String: Int]

    public init(network: Plan, partnerPlans: [Plan] = [], sites: [String: String] = [:]) {
        self.network = network
        self.partnerPlans = partnerPlans
        var index: [String: Int] = [:]
        for (site, plan) in sites { if let i = partnerPlans.firstIndex(where: { $0.id == plan }) { index[site] = i } }
        self.siteIndex = index
    }

    /// The partner plan of each site that has one, by plan id (what ``init(network:partnerPlans:sites:)`` took).
    public var sites: [String: String] { siteIndex.mapValues { partnerPlans[$0].id } }

    /// Every plan: the network's first.
    public var all: [Plan] { [network] + partnerPlans }

    /// The index in ``all`` of the plan that prices `site`.
    public func index(of site: String) -> Int { siteIndex[site].map { $0 + 1 } ?? 0 }
}
