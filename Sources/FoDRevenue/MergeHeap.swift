/// A k-way merge of sorted runs: a binary min-heap of the runs' cursors, ordered by each cursor's
/// current item. The smallest is ``top``; after it moved on, ``advanceTop(_:)`` restores the order.
struct MergeHeap<Cursor> {
    private var cursors: [Cursor]
    private let less: (Cursor, Cursor) -> Bool

    /// - Parameters:
    ///   - cursors: cursors that each have a current item.
    ///   - less: whether one cursor's current item comes before the other's.
    init(_ cursors: [Cursor], by less: @escaping (Cursor, Cursor) -> Bool) {
        self.cursors = cursors
        self.less = less
        for index in stride(from: cursors.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    /// The cursor whose current item comes first, or `nil` when every run ended.
    var top: Cursor? { cursors.first }

    /// Moves the top cursor on by `advance`, which returns whether the cursor has a current item
    /// still (a run that ended leaves the heap).
    mutating func advanceTop(_ advance: (inout Cursor) throws -> Bool) rethrows {
        guard !cursors.isEmpty else { return }
        if try !advance(&cursors[0]) {
            cursors.swapAt(0, cursors.count - 1)
            cursors.removeLast()
        }
        if !cursors.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < cursors.count && less(cursors[left], cursors[smallest]) { smallest = left }
            if right < cursors.count && less(cursors[right], cursors[smallest]) { smallest = right }
            if smallest == parent { return }
            cursors.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
