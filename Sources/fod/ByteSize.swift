import ArgumentParser

/// A size in bytes as given on the command line: `536870912`, `512MB`, `512MiB`, `512M`, `1G`, `1GB`
/// (a multiple of 1024 for every suffix, as memory sizes are read).
struct ByteSize: ExpressibleByArgument, Equatable {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let text = argument.uppercased()
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let multipliers: [String: Int] = ["": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
                                          "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40]
        guard let multiplier = multipliers[String(text.dropFirst(digits.count))] else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { bytes % (1 << 20) == 0 ? "\(bytes >> 20)MB" : "\(bytes)" }
}
