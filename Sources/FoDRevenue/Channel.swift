/// Where an activation was sold.
public enum Channel: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// At the dealer's point of sale.
    case dealer
    /// Online, attributed to the servicing dealer.
    case online
    /// In the vehicle's own store.
    case vehicle

    /// Validates a channel name.
    /// - Throws: ``RevenueError`` `field_invalid`.
    public init(validating name: String) throws {
        guard let channel = Channel(rawValue: name) else {
            throw RevenueError(.fieldInvalid, "channel \"\(name.prefix(20))\" is not dealer, online or vehicle")
        }
        self = channel
    }

    public var description: String { rawValue }
}
