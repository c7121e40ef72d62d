import Dispatch
import Synchronization

/// Runs an operation repeatedly for a time and reports operations per second.
enum Throughput {
    /// Calls `batch` (which performs `batchSize` operations) until `seconds` have passed.
    static func measure(seconds: Double, batchSize: Int = 32, _ batch: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        var operations = 0
        var now = start
        repeat {
            try batch()
            operations += batchSize
            now = DispatchTime.now().uptimeNanoseconds
        } while now < deadline
        return Double(operations) / (Double(now - start) / 1e9)
    }

    /// Runs `batch` on `threads` threads at once for `seconds`; total operations per second.
    static func parallel(threads: Int, seconds: Double, batchSize: Int = 32, _ batch: @Sendable @escaping () -> Void) -> Double {
        let rates = RateBox(count: threads)
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            rates.set(index, measure(seconds: seconds, batchSize: batchSize, batch))
        }
        return rates.values.reduce(0, +)
    }

    /// The median of a list.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Per-thread results, written once per slot from `concurrentPerform`.
final class RateBox: Sendable {
    private let storage: Mutex<[Double]>
    init(count: Int) { storage = Mutex(Array(repeating: 0, count: count)) }
    func set(_ index: Int, _ value: Double) { storage.withLock { $0[index] = value } }
    var values: [Double] { storage.withLock { $0 } }
}
