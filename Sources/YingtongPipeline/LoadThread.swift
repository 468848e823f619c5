import Foundation
import YingtongModel
import YingtongNormalize
import YingtongStore

/// Loads normalized batches into the store on a second thread while the first reads and normalizes the next
/// ones: on a 2-core machine the two halves of the work overlap instead of taking turns. The queue holds at most
/// `capacity` batches, so memory stays bounded by batch size whatever the input size.
final class LoadThread: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`, and the writer is touched only by the loader
    // thread between start() and finish() (the reader thread never uses it in that window).
    private let condition = NSCondition()
    private var queue: [NormalizedBatch] = []
    private var closed = false
    private var done = false
    private var failure: Error?
    private let capacity: Int
    private let writer: RunWriter

    private(set) var quarantineCount = 0
    private(set) var violationCount = 0
    /// Error-severity findings; the validation stage adds its own after the loader has finished.
    var errorCount = 0

    init(writer: RunWriter, capacity: Int = 4) {
        self.writer = writer
        self.capacity = capacity
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Hands a batch to the loader; waits while the queue is full. Throws the loader's error, if it failed.
    func put(_ batch: NormalizedBatch) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        queue.append(batch)
        condition.broadcast()
    }

    /// Waits until every batch is loaded; throws the loader's error, if any.
    func finish() throws {
        condition.lock()
        closed = true
        condition.broadcast()
        while !done { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            do {
                if batch.records.count > 0 { try writer.insert(batch.records) }
                if !batch.violations.isEmpty { try writer.insert(violations: batch.violations) }
                if !batch.quarantine.isEmpty { try writer.insert(quarantine: batch.quarantine) }
                StageHook.reached("load")
                quarantineCount += batch.quarantine.count
                violationCount += batch.violations.count
                errorCount += batch.violations.reduce(0) { $0 + ($1.severity == .error ? 1 : 0) }
            } catch {
                condition.lock()
                failure = error
                queue.removeAll()
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
