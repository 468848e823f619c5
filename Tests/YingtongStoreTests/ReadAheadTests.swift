import Foundation
import Testing
@testable import YingtongStore

private struct Boom: Error {}

/// Counts what the producer thread did, read after `ReadAhead.run` has returned (the producer has stopped).
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}

@Suite struct ReadAheadTests {
    @Test func itemsArriveInOrderAndAllOfThem() throws {
        var seen: [Int] = []
        try ReadAhead.run(produce: { emit in
            for i in 0..<1000 { try emit(i) }
        }, consume: { (i: Int) in seen.append(i) })
        #expect(seen == Array(0..<1000))
    }

    @Test func aProducerErrorArrivesAfterTheItemsBeforeIt() {
        var seen: [Int] = []
        #expect(throws: Boom.self) {
            try ReadAhead.run(produce: { emit in
                for i in 0..<5 { try emit(i) }
                throw Boom()
            }, consume: { (i: Int) in seen.append(i) })
        }
        #expect(seen == [0, 1, 2, 3, 4])
    }

    @Test func aConsumerErrorStopsTheProducerBeforeRunReturns() {
        let produced = Tally()
        #expect(throws: Boom.self) {
            try ReadAhead.run(capacity: 2, produce: { emit in
                for i in 0..<1_000_000 {
                    try emit(i)
                    produced.add()
                }
            }, consume: { (i: Int) in if i == 3 { throw Boom() } })
        }
        // Bounded by the queue: the producer stopped a few items past the failure, not at the end of its input.
        #expect(produced.count < 10)
    }
}
