import Foundation
import GRDB
import GRDBSQLite
import YingtongModel

/// Reads a run's rows back as columnar batches, for the stages that need a whole enterprise at once (the rule
/// engine joins each 107-2 record with its 107-1 projects, which arrive in different files).
///
/// Memory stays bounded by the block size (and SQLite's sorter, which spills to temp files): rows are streamed
/// from sorted statements, never loaded whole.
extension RunWriter {
    /// Calls `body` with blocks of at most `size` current 107-2 records in USCC order, each with the 107-1 rows
    /// of the same enterprises (also in USCC order). Reads and `body`'s own writes alternate, never nest.
    ///
    /// The next block is read on a second thread while `body` works on this one (at most two blocks ahead):
    /// reading was a third of the rule stage and the other core sat idle. Both threads use the one connection,
    /// which serializes them, so `body`'s lookups and writes still see the run's transaction.
    public func forEachEnterpriseBlock(size: Int, _ body: (RecordBatch, RecordBatch) throws -> Void) throws {
        try forEachEnterpriseBlock(size: size, ahead: { _, _ in () }) { a, p, _ in try body(a, p) }
    }

    /// As above, with two options for the rule stage.
    /// - `fields`: the dictionary fields the blocks must hold (nil: all). The identity and provenance columns,
    ///   and a project's name, are always read. Every row is put in USCC order by SQLite's sorter, whose cost grows
    ///   with the width of what it carries: sorting the keys alone took a quarter of the time of the whole rows.
    /// - `ahead` runs on the reading thread, on the connection, right after each block is read, and its result
    ///   comes with the block. A block's other reads from the store (registry matches) belong there: on the
    ///   evaluating thread they waited for the connection while the next block was being read, and the reading
    ///   thread had time to spare.
    public func forEachEnterpriseBlock<Extra: Sendable>(
        size: Int, fields: Set<String>? = nil, ahead: @escaping @Sendable (Database, RecordBatch) throws -> Extra,
        _ body: (RecordBatch, RecordBatch, Extra) throws -> Void
    ) throws {
        try finishLoading()   // the reads below go through the (run, source, line) indexes
        let writer = Unchecked(self)
        try ReadAhead.run(produce: { emit in
            try writer.value.readEnterpriseBlocks(size: size, fields: fields, ahead: ahead) { a, p, e in try emit((a, p, e)) }
        }, consume: { (block: (RecordBatch, RecordBatch, Extra)) in try body(block.0, block.1, block.2) })
    }

    /// The blocks of forEachEnterpriseBlock, read on the calling thread; `body` throws to stop early.
    ///
    /// Each table is read once in the order it was written (its (run, source, line) index follows the rowids)
    /// and put in USCC order by SQLite's external sorter; the two sorted streams are then walked side by side.
    /// Reading through the (run, uscc) index instead fetched every row from a random page: beyond the page cache
    /// (a million enterprises) that was one disk-cache read per row and made the rule stage grow with the square
    /// of the run.
    func readEnterpriseBlocks<Extra>(size: Int, fields: Set<String>?, ahead: (Database, RecordBatch) throws -> Extra,
                                     _ body: (RecordBatch, RecordBatch, Extra) throws -> Void) throws {
        guard var activity = store.schemas[.activity], var projects = store.schemas[.projects] else { return }
        if let fields {
            activity = activity.holding(fields)
            projects = projects.holding(fields.union(["project_name"]))
        }
        let recordRows = RowDecoder(schema: activity), projectRows = RowDecoder(schema: projects)
        var cursors: (records: SortedStatement, projects: SortedStatement)?
        defer { cursors?.records.close(store: store); cursors?.projects.close(store: store) }
        while true {
            let block: (RecordBatch, RecordBatch, Extra)? = try withDatabase { db in
                if cursors == nil {
                    cursors = (try SortedStatement(db, sql: """
                        SELECT id, \(BatchReader.columns(activity)) FROM record INDEXED BY record_line
                        WHERE run_id = ? ORDER BY uscc, period, id
                        """, arguments: [runID], keyColumn: recordRows.uscc, what: "运行数据"),
                               try SortedStatement(db, sql: """
                        SELECT id, \(BatchReader.columns(projects)) FROM project INDEXED BY project_line
                        WHERE run_id = ? ORDER BY uscc, id
                        """, arguments: [runID], keyColumn: projectRows.uscc, what: "运行数据"))
                }
                let (rc, pc) = cursors!
                var records = RecordBatch(form: .activity, formVersion: "2021", fields: activity.fields.compactMap(\.field))
                // Whole enterprises only: a block may grow past `size` to keep an enterprise's periods together.
                while rc.hasRow, records.count < size || records.uscc.last.map({ rc.compareKey($0) == 0 }) == true {
                    recordRows.append(rc.stmt, to: &records)
                    try rc.advance()
                }
                guard let first = records.uscc.first, let last = records.uscc.last else { return nil }
                var projectBatch = RecordBatch(form: .projects, formVersion: "2021", fields: projects.fields.compactMap(\.field))
                // Projects of enterprises without a 107-2 record between two blocks belong to neither, as before.
                while pc.hasRow, pc.compareKey(last) <= 0 {
                    if pc.compareKey(first) >= 0 { projectRows.append(pc.stmt, to: &projectBatch) }
                    try pc.advance()
                }
                return (records, projectBatch, try ahead(db, records))
            }
            guard let block else { return }
            try body(block.0, block.1, block.2)
        }
    }
}

enum BatchReader {
    static func columns(_ schema: FormSchema) -> String {
        schema.all.map { "\"\($0.name)\"" }.joined(separator: ",")
    }
}

/// Decodes a row selected as `id, schema.all` straight from the statement with the sqlite3 column API: GRDB's
/// generic row decoding was most of the validation stage's time.
struct RowDecoder {
    let uscc: Int32, name: Int32, region: Int32, industry: Int32, period: Int32, submitted: Int32, sequence: Int32
    let source: Int32, line: Int32, lineEnd: Int32, status: Int32
    let fieldStart: Int32
    let storages: [FieldStorage]

    init(schema: FormSchema) {
        var index: [String: Int32] = [:]
        for (i, c) in schema.all.enumerated() { index[c.name] = Int32(i + 1) }
        uscc = index["uscc"]!; name = index["name"]!; region = index["region_code"]!; industry = index["industry_code"]!
        period = index["period"]!; submitted = index["submitted_at"]!; sequence = index["sequence"]!
        source = index["source_index"]!; line = index["line"]!; lineEnd = index["line_end"]!; status = index["status"]!
        fieldStart = Int32(1 + schema.fixed.count)
        storages = schema.fields.map { $0.storage ?? .text }
    }

    /// nil for NULL (the only case in which SQLite gives no pointer for a text). The length comes from SQLite:
    /// `String(cString:)` measured every text again.
    func text(_ stmt: OpaquePointer?, _ c: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, c) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, c))), as: UTF8.self)
    }

    func append(_ stmt: OpaquePointer?, to batch: inout RecordBatch) {
        batch.uscc.append(text(stmt, uscc) ?? "")
        batch.name.append(text(stmt, name))
        batch.regionCode.append(text(stmt, region))
        batch.industryCode.append(text(stmt, industry))
        batch.period.append(Int(sqlite3_column_int64(stmt, period)))
        batch.submittedAt.append(text(stmt, submitted))
        batch.sequence.append(sqlite3_column_int64(stmt, sequence))
        let l = Int32(truncatingIfNeeded: sqlite3_column_int64(stmt, line))
        let le = sqlite3_column_type(stmt, lineEnd) == SQLITE_NULL ? l : Int32(truncatingIfNeeded: sqlite3_column_int64(stmt, lineEnd))
        batch.provenance.append(Provenance(sourceIndex: Int32(truncatingIfNeeded: sqlite3_column_int64(stmt, source)),
                                           line: l, lineEnd: le, byteOffset: -1))
        batch.status.append(text(stmt, status).flatMap(RecordStatus.init(rawValue:)) ?? .clean)
        for k in 0..<storages.count {
            let c = fieldStart + Int32(k)
            let type = sqlite3_column_type(stmt, c)
            if type == SQLITE_NULL { batch.columns[k].appendMissing(); continue }
            switch (storages[k], type) {
            case (.text, _):
                batch.columns[k].append(text: text(stmt, c) ?? "")
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
}
