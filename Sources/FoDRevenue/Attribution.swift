/// Why a sale is credited to the site it is credited to: the rule of an ``AttributionRule`` that
/// decided it, recorded on the sale (`event.attribution`) and shown on statements and the book
/// extract (docs/journeys.md).
public enum Attribution: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Booked at a site's counter (a dealer key): that site.
    case counter
    /// A quote made at a site (a dealer key), accepted elsewhere: the site that made it.
    case quoted
    /// The site the customer chose in the quote (the "preferred dealer").
    case preferred
    /// The vehicle's servicing site at the sale (purchases in the shop, app or car).
    case servicing

    public var description: String { rawValue }

    /// What the reason means, in words for a statement.
    public var explanation: String {
        switch self {
        case .counter: "booked at the site's counter"
        case .quoted: "quote made at the site"
        case .preferred: "the customer's preferred site"
        case .servicing: "the vehicle's servicing site"
        }
    }
}

/// The stated rule that credits a sale made from a quote: its reasons in order, the first that
/// names an open site wins (`fod serve --attribution`). The default is
/// `counter,preferred,quoted,servicing`: a sale at a counter is that site's; else the site the
/// customer chose; else the site that made the quote; else the servicing site.
public struct AttributionRule: Sendable, Hashable, CustomStringConvertible {
    /// The reasons, in the order they are tried.
    public let order: [Attribution]

    /// The default rule.
    public static let standard = AttributionRule(uncheckedOrder: [.counter, .preferred, .quoted, .servicing])

    private init(uncheckedOrder: [Attribution]) { order = uncheckedOrder }

    /// A rule from its reasons, comma-separated (`counter,preferred,quoted,servicing`): each at
    /// most once, `servicing` included (the last resort: without it a sale could be credited to nobody).
    /// - Throws: ``RevenueError`` `field_invalid`.
    public init(parsing text: String) throws {
        var order: [Attribution] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part).trimmingASCIISpaces()
            guard let reason = Attribution(rawValue: name) else {
                throw RevenueError(.fieldInvalid, "attribution rule: \"\(name.prefix(20))\" is not one of \(Attribution.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !order.contains(reason) else { throw RevenueError(.fieldInvalid, "attribution rule: \(reason) appears twice") }
            order.append(reason)
        }
        guard order.contains(.servicing) else {
            throw RevenueError(.fieldInvalid, "attribution rule: it must include servicing (the site credited when no other reason names one)")
        }
        self.order = order
    }

    /// The site credited and why: the first reason in ``order`` whose `candidate` names a site
    /// (`nil`: that reason does not apply — no counter, no preferred site, a site closed since).
    /// Candidates are asked for in order and only until one applies (each may be a read).
    public func credit<Site>(_ candidate: (Attribution) async throws -> Site?) async rethrows -> (site: Site, reason: Attribution)? {
        for reason in order {
            if let site = try await candidate(reason) { return (site, reason) }
        }
        return nil
    }

    public var description: String { order.map(\.rawValue).joined(separator: ",") }
}
