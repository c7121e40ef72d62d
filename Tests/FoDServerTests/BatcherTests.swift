import FoDStore
import Synchronization
import Testing

/// What a test's batched calls saw.
private final class Calls: Sendable {
    private let state = Mutex<(groups: [[Int]], running: Int, most: Int)>(([], 0, 0))
    func begin() { state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) } }
    func end(_ group: [Int]) { state.withLock { $0.running -= 1; $0.groups.append(group) } }
    var groups: [[Int]] { state.withLock { $0.groups } }
    var mostAtOnce: Int { state.withLock { $0.most } }
}

@Suite("Batched store calls")
struct BatcherTests {
    /// Submits `count` records concurrently; returns each record's outcome.
    private func submitAll(_ batcher: Batcher<Int, String>, _ count: Int) async -> [Int: Result<String, StoreError>] {
        await withTaskGroup(of: (Int, Result<String, StoreError>).self) { group in
            for record in 0..<count {
                group.addTask {
                    do { return (record, .success(try await batcher.submit(record))) } catch let error as StoreError {
                        return (record, .failure(error))
                    } catch { return (record, .failure(StoreError(.database, "\(error)"))) }
                }
            }
            var outcomes: [Int: Result<String, StoreError>] = [:]
            for await (record, outcome) in group { outcomes[record] = outcome }
            return outcomes
        }
    }

    @Test("concurrent requests share calls of at most maxBatch records; each gets its own result")
    func coalesces() async throws {
        let calls = Calls()
        let batcher = Batcher<Int, String>(maxBatch: 16) { group in
            calls.begin()
            let (records, _) = group.take()
            try await Task.sleep(for: .milliseconds(2))
            calls.end(records)
            return records.map { $0 % 7 == 0 ? .failure(StoreError(.conflict, "\($0)")) : .success("r\($0)") }
        }
        let outcomes = await submitAll(batcher, 200)
        #expect(outcomes.count == 200)
        for (record, outcome) in outcomes {
            switch outcome {
            case .success(let value): #expect(record % 7 != 0 && value == "r\(record)")
            case .failure(let error): #expect(record % 7 == 0 && error.code == .conflict)
            }
        }
        #expect(calls.groups.count < 200, "requests were grouped")
        #expect(calls.groups.allSatisfy { $0.count <= 16 })
        #expect(calls.groups.flatMap { $0 }.sorted() == Array(0..<200), "every record in exactly one call")
        #expect(calls.mostAtOnce == 1)
    }

    @Test("a call that takes its group late (after waiting for a lock) gets what waits then; one call at a time")
    func takesLate() async throws {
        let calls = Calls()
        let batcher = Batcher<Int, String> { group in
            calls.begin()
            try await Task.sleep(for: .milliseconds(3))  // waiting for the write lock
            let (records, _) = group.take()
            calls.end(records)
            return records.map { .success("r\($0)") }
        }
        let outcomes = await submitAll(batcher, 100)
        #expect(outcomes.values.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(calls.groups.flatMap { $0 }.sorted() == Array(0..<100))
        #expect(calls.mostAtOnce == 1)
        #expect(calls.groups.count < 100)
    }

    @Test("a call that fails fails its group, also before it took it; the next call works")
    func failure() async throws {
        struct Unreachable: Error {}
        let failing = Mutex(true)
        let batcher = Batcher<Int, String> { group in
            if failing.withLock({ $0 }) { throw Unreachable() }  // before taking: the database is down
            return group.take().records.map { .success("r\($0)") }
        }
        await #expect(throws: Unreachable.self) { try await batcher.submit(1) }
        failing.withLock { $0 = false }
        #expect(try await batcher.submit(2) == "r2")
    }
}
