import Foundation

/// A two-thread pipeline for the stages that read a run back block by block: a producer thread reads the next
/// blocks from the store while the calling thread works on the current one (evaluates rules, builds omission
/// entries, writes findings). Both share the run's one connection, which GRDB serializes, so each still sees the
/// run's uncommitted rows; on a 2-core machine the other core otherwise sat idle during these stages.
public enum ReadAhead {
    /// Runs `produce` on a second thread and hands each item it emits to `consume` on this one, at most `capacity`
    /// items ahead (memory stays bounded by the block). A producer error is rethrown here after the items emitted
    /// before it; if `consume` throws, the producer's next `emit` stops it. Either way the producer has stopped
    /// before this returns, so the caller may roll the run back.
    public static func run<Item>(capacity: Int = 2, produce: @escaping @Sendable (_ emit: (Item) throws -> Void) throws -> Void,
                                 consume: (Item) throws -> Void) throws {
        let queue = ItemQueue<Item>(capacity: capacity)
        let producer = Thread {
            do {
                try produce { item in
                    guard queue.put(item) else { throw Stopped() }
                }
                queue.close(nil)
            } catch is Stopped {
                queue.close(nil)
            } catch {
                queue.close(error)
            }
        }
        producer.stackSize = 8 << 20
        producer.start()
        defer { queue.cancelAndWait() }
        while let item = try queue.take() { try consume(item) }
    }

    private struct Stopped: Error {}
}

/// A value handed to a `ReadAhead` producer thread that the stage's own threading makes safe: the store's
/// connection is serialized by GRDB, and the consumer waits for the producer to stop before the run goes on
/// (commit or rollback).
public struct Unchecked<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// Items read ahead, at most `capacity`; the producer's error is rethrown to the consumer in order.
private final class ItemQueue<Item>: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Item] = []
    private var closed = false
    private var cancelled = false
    private var failure: Error?
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; false when the consumer has gone (the producer stops).
    func put(_ item: Item) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    func close(_ error: Error?) {
        condition.lock(); defer { condition.unlock() }
        failure = error
        closed = true
        condition.broadcast()
    }

    /// The next item, nil at the end; throws the producer's error once the items before it are taken.
    func take() throws -> Item? {
        condition.lock(); defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        if !items.isEmpty {
            condition.broadcast()
            return items.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    func cancelAndWait() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        items.removeAll()
        condition.broadcast()
        while !closed { condition.wait() }
    }
}
