import Foundation
import GRDB
import GRDBSQLite
import YingtongModel

/// Reads a run's rows back as columnar batches, for the stages that need a whole enterprise at once (the rule
/// engine joins each 107-2 record with its 107-1 projects, which arrive in different files).
///
/// Memory stays bounded by the block size: records are paged by (uscc, id) keyset, never loaded whole.
extension RunWriter {
    /// Calls `body` with blocks of at most `size` current 107-2 records in USCC order, each with the 107-1 rows
    /// of the same enterprises (also in USCC order). Reads and `body`'s own writes alternate, never nest.
    ///
    /// The next block is read on a second thread while `body` works on this one (at most two blocks ahead):
    /// reading was a third of the rule stage and the other core sat idle. Both threads use the one connection,
    /// which serializes them, so `body`'s lookups and writes still see the run's transaction.
    public func forEachEnterpriseBlock(size: Int, _ body: (RecordBatch, RecordBatch) throws -> Void) throws {
        let queue = BlockQueue(capacity: 2)
        let box = UncheckedWriter(writer: self)
        let producer = Thread {
            do {
                try box.writer.readEnterpriseBlocks(size: size) { a, p in queue.put(a, p) }
                queue.close(nil)
            } catch {
                queue.close(error)
            }
        }
        producer.stackSize = 8 << 20
        producer.start()
        // Whatever happens to `body`, the producer has stopped before this returns (the caller may roll back).
        defer { queue.cancelAndWait() }
        while let (a, p) = try queue.take() { try body(a, p) }
    }

    /// The blocks of forEachEnterpriseBlock, read on the calling thread; `body` returns false to stop early.
    func readEnterpriseBlocks(size: Int, _ body: (RecordBatch, RecordBatch) -> Bool) throws {
        guard let activity = store.schemas[.activity], let projects = store.schemas[.projects] else { return }
        // Keyset paging on the (run_id, uscc, period) index: `uscc > last` walks the index in order, where an
        // OR of (uscc, id) conditions made SQLite sort the whole run for every block.
        var after: String? = nil
        while true {
            let block: (RecordBatch, RecordBatch, String?) = try withDatabase { db in
                let select = "SELECT id, \(BatchReader.columns(activity)) FROM record"
                var records: RecordBatch
                if let after {
                    records = try BatchReader.fetch(db, sql: "\(select) WHERE run_id = ? AND uscc > ? ORDER BY uscc, period, id LIMIT \(size)",
                                                    arguments: [runID, after], schema: activity)
                } else {
                    records = try BatchReader.fetch(db, sql: "\(select) WHERE run_id = ? ORDER BY uscc, period, id LIMIT \(size)",
                                                    arguments: [runID], schema: activity)
                }
                let full = records.count == size
                if full, let lastUSCC = records.uscc.last,
                   let cut = records.uscc.lastIndex(where: { $0 != lastUSCC }).map({ $0 + 1 }) {
                    // The block may have cut an enterprise's records (several periods) in two: leave that enterprise
                    // to the next block, which starts after the last whole one (rows are in USCC order).
                    records = records.prefix(cut)
                } else if full, let lastUSCC = records.uscc.last {
                    // One enterprise fills the block: take it whole here.
                    let keep = records.uscc.indices.filter { records.uscc[$0] != lastUSCC }
                    let whole = try BatchReader.fetch(db, sql: "\(select) WHERE run_id = ? AND uscc = ? ORDER BY period, id",
                                                      arguments: [runID, lastUSCC], schema: activity)
                    records = BatchReader.gather(records, keep, then: whole)
                }
                guard let first = records.uscc.first, let last = records.uscc.last else {
                    return (records, RecordBatch(form: .projects, formVersion: "2021", fields: []), nil)
                }
                let projectBatch = try BatchReader.fetch(db, sql: """
                    SELECT id, \(BatchReader.columns(projects)) FROM project
                    WHERE run_id = ? AND uscc >= ? AND uscc <= ? ORDER BY uscc, id
                    """, arguments: [runID, first, last], schema: projects)
                return (records, projectBatch, full ? last : nil)
            }
            if !block.0.isEmpty && !body(block.0, block.1) { return }
            guard let next = block.2 else { return }
            after = next
        }
    }
}

/// The writer handed to the prefetch thread: GRDB serializes every use of its connection, and the consuming
/// thread waits for the producer to stop before it can commit or roll back.
private struct UncheckedWriter: @unchecked Sendable { let writer: RunWriter }

/// Blocks read ahead, at most `capacity`; the producer's error is rethrown to the consumer in order.
private final class BlockQueue: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var blocks: [(RecordBatch, RecordBatch)] = []
    private var closed = false
    private var cancelled = false
    private var failure: Error?
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; false when the consumer has gone (the producer stops).
    func put(_ a: RecordBatch, _ p: RecordBatch) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while blocks.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        blocks.append((a, p))
        condition.broadcast()
        return true
    }

    func close(_ error: Error?) {
        condition.lock(); defer { condition.unlock() }
        failure = error
        closed = true
        condition.broadcast()
    }

    /// The next block, nil at the end; throws the producer's error once the blocks before it are taken.
    func take() throws -> (RecordBatch, RecordBatch)? {
        condition.lock(); defer { condition.unlock() }
        while blocks.isEmpty && !closed { condition.wait() }
        if !blocks.isEmpty {
            condition.broadcast()
            return blocks.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    func cancelAndWait() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        blocks.removeAll()
        condition.broadcast()
        while !closed { condition.wait() }
    }
}

enum BatchReader {
    static func columns(_ schema: FormSchema) -> String {
        schema.all.map { "\"\($0.name)\"" }.joined(separator: ",")
    }

    /// Runs `sql` (selecting `id` then `schema.all`) and decodes the rows straight from the statement with the
    /// sqlite3 column API: GRDB's generic row decoding was most of the validation stage's time.
    static func fetch(_ db: Database, sql: String, arguments: StatementArguments, schema: FormSchema) throws -> RecordBatch {
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(arguments)
        let stmt = statement.sqliteStatement
        defer { sqlite3_reset(stmt) }
        let fields = schema.fields.compactMap(\.field)
        var batch = RecordBatch(form: schema.form, formVersion: "2021", fields: fields)
        var index: [String: Int32] = [:]
        for (i, c) in schema.all.enumerated() { index[c.name] = Int32(i + 1) }
        let uscc = index["uscc"]!, name = index["name"]!, region = index["region_code"]!, industry = index["industry_code"]!
        let period = index["period"]!, submitted = index["submitted_at"]!, sequence = index["sequence"]!
        let source = index["source_index"]!, line = index["line"]!, lineEnd = index["line_end"]!, status = index["status"]!
        let fieldStart = Int32(1 + schema.fixed.count)
        let storages = schema.fields.map { $0.storage ?? .text }
        func text(_ c: Int32) -> String? {
            guard sqlite3_column_type(stmt, c) != SQLITE_NULL, let p = sqlite3_column_text(stmt, c) else { return nil }
            return String(cString: p)
        }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw YingtongError("E-STORE-READ", "读取运行数据失败：\(String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt))))")
            }
            batch.uscc.append(text(uscc) ?? "")
            batch.name.append(text(name))
            batch.regionCode.append(text(region))
            batch.industryCode.append(text(industry))
            batch.period.append(Int(sqlite3_column_int64(stmt, period)))
            batch.submittedAt.append(text(submitted))
            batch.sequence.append(sqlite3_column_int64(stmt, sequence))
            let l = Int32(truncatingIfNeeded: sqlite3_column_int64(stmt, line))
            let le = sqlite3_column_type(stmt, lineEnd) == SQLITE_NULL ? l : Int32(truncatingIfNeeded: sqlite3_column_int64(stmt, lineEnd))
            batch.provenance.append(Provenance(sourceIndex: Int32(truncatingIfNeeded: sqlite3_column_int64(stmt, source)),
                                               line: l, lineEnd: le, byteOffset: -1))
            batch.status.append(text(status).flatMap(RecordStatus.init(rawValue:)) ?? .clean)
            for k in 0..<storages.count {
                let c = fieldStart + Int32(k)
                let type = sqlite3_column_type(stmt, c)
                if type == SQLITE_NULL { batch.columns[k].appendMissing(); continue }
                switch (storages[k], type) {
                case (.text, _):
                    batch.columns[k].append(text: text(c) ?? "")
                case (.moneyYuan, SQLITE_INTEGER):
                    batch.columns[k].append(Milli(raw: sqlite3_column_int64(stmt, c)))
                case (.count, SQLITE_INTEGER), (.real, SQLITE_INTEGER):
                    batch.columns[k].append(Milli(units: sqlite3_column_int64(stmt, c)))
                case (_, SQLITE_FLOAT):
                    batch.columns[k].append(Milli(raw: Int64((sqlite3_column_double(stmt, c) * 1000).rounded())))
                default:
                    batch.columns[k].appendMissing()
                }
            }
        }
        return batch
    }

    /// `batch`'s rows at `keep`, followed by all rows of `tail`.
    static func gather(_ batch: RecordBatch, _ keep: [Int], then tail: RecordBatch) -> RecordBatch {
        RecordBatch.concatenated([batch.gathering(keep), tail], form: batch.form)
    }
}
