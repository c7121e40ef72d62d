/// An error answer: an RFC 9457 problem document with fod's stable `code`, and for a refused
/// booking the structured cause (`rule`, `feature`, `equipment`), so a program or the dealer page
/// acts on fields, never on the wording of `detail`.
public struct Problem: Codable, Sendable, Hashable {
    /// `https://fod.dev/problems/<code>`.
    public var type: String
    /// One fixed summary per code.
    public var title: String
    /// The HTTP status.
    public var status: Int
    /// The stable code.
    public var code: String
    /// A sentence for people.
    public var detail: String
    /// The eligibility rule that refused (`not_eligible`).
    public var rule: String?
    /// The feature refused.
    public var feature: String?
    /// The equipment code the rule concerns.
    public var equipment: String?

    public init(type: String, title: String, status: Int, code: String, detail: String,
                rule: String? = nil, feature: String? = nil, equipment: String? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.code = code
        self.detail = detail
        self.rule = rule
        self.feature = feature
        self.equipment = equipment
    }
}
