import Foundation
import YingtongStore

/// The synchronous door for the command-line tool, whose commands are synchronous.
///
/// Blocks the calling thread until the load finishes on the concurrency runtime. Call it from a plain thread
/// (the tool's main thread), never from inside a Swift task: a task blocked here could hold the very thread
/// the load needs. Tests use the `async` API directly.
extension PostgresWarehouse {
    public func loadBlocking(store: Store, runID: Int64) throws -> WarehouseLoad {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let warehouse = self
        Task.detached {
            do { box.set(.success(try await warehouse.load(store: store, runID: runID))) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try box.get()
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<WarehouseLoad, Error>?

    func set(_ r: Result<WarehouseLoad, Error>) {
        lock.lock(); result = r; lock.unlock()
    }

    func get() throws -> WarehouseLoad {
        lock.lock(); defer { lock.unlock() }
        return try result!.get()
    }
}
