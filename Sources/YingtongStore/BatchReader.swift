import Foundation
import GRDB
import YingtongModel

/// Reads a run's rows back as columnar batches, for the stages that need a whole enterprise at once (the rule
/// engine joins each 107-2 record with its 107-1 projects, which arrive in different files).
///
/// Memory stays bounded by the block size: records are paged by (uscc, id) keyset, never loaded whole.
extension RunWriter {
    /// Calls `body` with blocks of at most `size` current 107-2 records in USCC order, each with the 107-1 rows
    /// of the same enterprises (also in USCC order). Reads and `body`'s own writes alternate, never nest.
    public func forEachEnterpriseBlock(size: Int, _ body: (RecordBatch, RecordBatch) throws -> Void) throws {
        guard let activity = store.schemas[.activity], let projects = store.schemas[.projects] else { return }
        // Keyset paging on the (run_id, uscc, period) index: `uscc > last` walks the index in order, where an
        // OR of (uscc, id) conditions made SQLite sort the whole run for every block.
        var after: String? = nil
        while true {
            let block: (RecordBatch, RecordBatch, String?) = try withDatabase { db in
                let select = "SELECT id, \(BatchReader.columns(activity)) FROM record"
                var rows: [Row]
                if let after {
                    rows = try Row.fetchAll(db, sql: "\(select) WHERE run_id = ? AND uscc > ? ORDER BY uscc, period, id LIMIT \(size)",
                                            arguments: [runID, after])
                } else {
                    rows = try Row.fetchAll(db, sql: "\(select) WHERE run_id = ? ORDER BY uscc, period, id LIMIT \(size)",
                                            arguments: [runID])
                }
                let full = rows.count == size
                if full, let lastUSCC: String = rows.last?["uscc"] {
                    // The block may have cut an enterprise's records (several periods) in two: take that enterprise
                    // whole, so the next block starts after it.
                    rows.removeAll { ($0["uscc"] as String) == lastUSCC }
                    rows += try Row.fetchAll(db, sql: "\(select) WHERE run_id = ? AND uscc = ? ORDER BY period, id",
                                             arguments: [runID, lastUSCC])
                }
                let records = BatchReader.decode(rows, schema: activity, offset: 1)
                guard let first = records.uscc.first, let last = records.uscc.last else {
                    return (records, RecordBatch(form: .projects, formVersion: "2021", fields: []), nil)
                }
                let projectRows = try Row.fetchAll(db, sql: """
                    SELECT id, \(BatchReader.columns(projects)) FROM project
                    WHERE run_id = ? AND uscc >= ? AND uscc <= ? ORDER BY uscc, id
                    """, arguments: [runID, first, last])
                return (records, BatchReader.decode(projectRows, schema: projects, offset: 1), full ? last : nil)
            }
            if !block.0.isEmpty { try body(block.0, block.1) }
            guard let next = block.2 else { return }
            after = next
        }
    }
}

enum BatchReader {
    static func columns(_ schema: FormSchema) -> String {
        schema.all.map { "\"\($0.name)\"" }.joined(separator: ",")
    }

    /// Rows (columns in `schema.all` order starting at `offset`) back into a RecordBatch with exact values.
    static func decode(_ rows: [Row], schema: FormSchema, offset: Int) -> RecordBatch {
        let fields = schema.fields.compactMap(\.field)
        var batch = RecordBatch(form: schema.form, formVersion: "2021", fields: fields, capacity: rows.count)
        var index: [String: Int] = [:]
        for (i, c) in schema.all.enumerated() { index[c.name] = i + offset }
        func text(_ row: Row, _ name: String) -> String? { index[name].flatMap { row[$0] as String? } }
        func int(_ row: Row, _ name: String) -> Int64? { index[name].flatMap { row[$0] as Int64? } }
        let fieldStart = offset + schema.fixed.count
        for row in rows {
            batch.uscc.append(text(row, "uscc") ?? "")
            batch.name.append(text(row, "name"))
            batch.regionCode.append(text(row, "region_code"))
            batch.industryCode.append(text(row, "industry_code"))
            batch.period.append(Int(int(row, "period") ?? 0))
            batch.submittedAt.append(text(row, "submitted_at"))
            batch.sequence.append(int(row, "sequence") ?? 0)
            batch.provenance.append(Provenance(
                sourceIndex: Int32(int(row, "source_index") ?? 0), line: Int32(int(row, "line") ?? 0),
                lineEnd: Int32(int(row, "line_end") ?? int(row, "line") ?? 0), byteOffset: 0))
            batch.status.append(text(row, "status").flatMap(RecordStatus.init(rawValue:)) ?? .clean)
            for (k, c) in schema.fields.enumerated() {
                let dbv: DatabaseValue = row[fieldStart + k]
                if dbv.isNull { batch.columns[k].appendMissing(); continue }
                guard let storage = c.storage else { batch.columns[k].appendMissing(); continue }
                if storage == .text {
                    if case .string(let s) = dbv.storage { batch.columns[k].append(text: s) } else { batch.columns[k].appendMissing() }
                } else if let m = StoredValue.milli(dbv, storage: storage) {
                    batch.columns[k].append(m)
                } else {
                    batch.columns[k].appendMissing()
                }
            }
        }
        return batch
    }
}
