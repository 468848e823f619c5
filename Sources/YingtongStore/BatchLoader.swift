// Bulk load of RecordBatch rows — the store's hot path.
//
// Choice: GRDB prepares and caches the statement (`db.cachedStatement`), and each row is bound with the raw
// `sqlite3_bind_*` API on `Statement.sqliteStatement`, then `sqlite3_step` / `sqlite3_reset` (RawBinder).
// Never GRDB's `execute()` after raw binding: it re-checks its own argument bookkeeping and fails with SQLite
// error 21. Secondary indexes stay in place during the load (Store.defersIndexes = false, see below).
//
// Measured with scripts/bench-store (release build, `yingtong-bench-store`): 1,000,000 107-2 records
// (15 identity/provenance columns + 61 dictionary columns, ~70 % of numbers present) and 2,000,000 107-1
// projects, one run transaction, WAL, synchronous=NORMAL, batches of 4096, on the shared 2-core machine
// (load average 4–10 from other jobs, so absolute figures vary ±40 % between runs; compare within a round):
//
//   round 1, one binary, all modes          records/s   projects/s   insert total
//   GRDB StatementArguments per row            9,360       11,366       282.8 s
//   GRDB statement + raw sqlite3_bind (chosen)35,673       38,524        80.0 s
//   plain C API on GRDB's connection          43,822       42,846        69.5 s
//
//   round 2 (submission-time cache, project_line deferred; 1 % resubmissions, 100k findings)
//   GRDB statement + raw sqlite3_bind         51,381       84,478        43.1 s
//   plain C API on GRDB's connection          52,530       63,163        50.7 s
//
//   final scripts/bench-store run: raw 68,482 / 36,739 (69.0 s); C API 37,954 / 43,825 (72.0 s);
//   StatementArguments 12,471 / 25,604 (158.3 s). After the load (raw, final run): secondary indexes 17.6 s,
//   resolveResubmissions 10.9 s (10,000 records and 5,000 projects moved), applyStatuses 17.6 s, commit 6.3 s
//   (the commit's WAL checkpoint writes the 1.2 GB run a second time). Database: 1,172 MB.
//
//   round 5 (final code: indexes kept, scattered USCCs, statuses counted from findings):
//   GRDB statement + raw sqlite3_bind         50,951       48,700        60.7 s
//   plain C API on GRDB's connection          41,144       43,305        70.5 s
//   after the load (raw): resolveResubmissions 9.0 s, applyStatuses 9.5 s (was 14–18 s), commit 5.4 s.
//
//   Indexes (secondary indexes of record/project dropped for the load and rebuilt after, or kept):
//   - round 1, enterprises in USCC order: kept 107.7 s insert + 16.3 s resolve = 124 s; deferred 80.0 s +
//     26.3 s (rebuild included) = 106 s — deferring won by 15 %, but sorted keys flatter index appends;
//   - round 4, enterprises in scattered order (as real exports): deferred 46.3 s insert + 10.5 s rebuild =
//     56.8 s; kept 52.3 s + 0 s — keeping won by 8 %, within noise.
//   No clear gain, and a rebuild covers every run the store keeps (its cost grows with history), so indexes
//   are kept by default; `Store(path:defersIndexes: true)` remains for one-off bulk stores.
//
// Why raw binding on GRDB's statement rather than the plain C API: the two are within the machine's noise of
// each other (the C API won round 1 by 15 %, lost rounds 2 and 5), both beat StatementArguments by
// 2.3–3.5× over the whole load (3.8–5.5× on the wide 107-2 rows, 1.4–3.4× on the narrower 107-1 rows), and
// GRDB's statement keeps prepared-statement caching, error translation
// (DatabaseError) and the connection's transaction bookkeeping in one place.
import GRDB
import GRDBSQLite
import YingtongModel

/// Inserts the rows of one `RecordBatch` into its form table with one prepared statement, bound by hand.
enum BatchLoader {
    static func insertSQL(_ schema: FormSchema, table: String? = nil) -> String {
        let cols = schema.all.map { quoted($0.name) }
        let marks = Array(repeating: "?", count: cols.count).joined(separator: ",")
        return "INSERT INTO \(table ?? schema.table) (\(cols.joined(separator: ","))) VALUES (\(marks))"
    }

    /// Checks that every array of the batch has one entry per record, so a malformed batch is an error and
    /// never an out-of-range crash in the loop below.
    static func validate(_ batch: RecordBatch, schema: FormSchema) throws -> [Int?] {
        let n = batch.count
        func bad(_ what: String) -> YingtongError {
            YingtongError("E-STORE-BATCH", "批次数据不完整（\(batch.form.rawValue)）：\(what) 的条数与记录数 \(n) 不一致")
        }
        guard batch.period.count == n else { throw bad("period") }
        guard batch.name.count == n else { throw bad("name") }
        guard batch.regionCode.count == n else { throw bad("region_code") }
        guard batch.industryCode.count == n else { throw bad("industry_code") }
        guard batch.submittedAt.count == n else { throw bad("submitted_at") }
        guard batch.sequence.count == n else { throw bad("sequence") }
        guard batch.provenance.count == n else { throw bad("provenance") }
        guard batch.status.isEmpty || batch.status.count == n else { throw bad("status") }
        let known = Set(schema.fields.map(\.name))
        for c in batch.columns {
            guard known.contains(c.field.code) || batch.form == .macro else {
                throw YingtongError("E-STORE-BATCH", "批次含有数据库中没有的字段 \(c.field.code)（\(batch.form.rawValue)）")
            }
            guard c.present.count == n, (c.field.type.isNumeric ? c.numbers.count : c.texts.count) == n else {
                throw bad("字段 \(c.field.code)")
            }
        }
        return schema.fields.map { batch.columnPosition($0.name) }
    }

    /// Returns the rowids of the rows inserted with a status other than `clean` (a few: format errors).
    @discardableResult
    static func insert(_ batch: RecordBatch, schema: FormSchema, run: Int64, db: Database) throws -> [Int64] {
        let positions = try validate(batch, schema: schema)
        guard !batch.isEmpty else { return [] }
        var nonClean: [Int64] = []
        let statement = try db.cachedStatement(sql: insertSQL(schema))
        var b = RawBinder(statement, db: db)
        let storages = schema.fields.map { $0.storage! }
        // Consecutive rows usually share one submission time (an enterprise's 107-1 rows, a bureau export's
        // preparedAt): parse each distinct text once.
        var lastTime: String?, lastKey: String?
        // Columns are read through a buffer pointer: binding `batch.columns[pos]` to a local copied the column
        // (its three arrays and its field) per cell, and those retains were a tenth of the loader's time.
        try batch.columns.withUnsafeBufferPointer { columns in
        for i in 0..<batch.count {
            let p = batch.provenance[i]
            b.int(run)
            b.text(batch.uscc[i])
            b.int(Int64(batch.period[i]))
            b.text(batch.name[i])
            b.text(batch.regionCode[i])
            b.text(batch.industryCode[i])
            b.text(batch.formVersion)
            b.text(batch.submittedAt[i])
            let time = batch.submittedAt[i]
            if time != lastTime { lastTime = time; lastKey = SubmissionTime.key(time) }
            b.text(lastKey)
            b.int(batch.sequence[i])
            b.int(Int64(p.sourceIndex))
            b.int(Int64(p.line))
            b.int(Int64(p.lineEnd))
            b.text(p.elementPath)
            b.text(batch.status.isEmpty ? RecordStatus.clean.rawValue : batch.status[i].rawValue)
            for k in 0..<positions.count {
                guard let pos = positions[k] else { b.null(); continue }
                guard columns[pos].present[i] else { b.null(); continue }
                switch storages[k] {
                case .moneyYuan:
                    b.int(columns[pos].numbers[i])
                case .count:
                    let raw = columns[pos].numbers[i]
                    if raw % Milli.scale == 0 { b.int(raw / Milli.scale) } else { b.double(Double(raw) / 1000) }
                case .real:
                    b.double(Double(columns[pos].numbers[i]) / 1000)
                case .text:
                    if columns[pos].field.type.isNumeric {
                        b.text(Milli(raw: columns[pos].numbers[i]).description)
                    } else {
                        b.text(columns[pos].texts[i])
                    }
                }
            }
            try b.step()
            if !batch.status.isEmpty, batch.status[i] != .clean { nonClean.append(db.lastInsertedRowID) }
        }
        }
        return nonClean
    }

    /// Macro batches are long-form rows: one (region, period, indicator, value, unit) per record.
    static func insertMacro(_ batch: RecordBatch, run: Int64, defaultRegion: String, db: Database) throws {
        let n = batch.count
        guard batch.period.count == n, batch.regionCode.count == n, batch.provenance.count == n else {
            throw YingtongError("E-STORE-BATCH", "宏观数据批次不完整：标识列条数与记录数 \(n) 不一致")
        }
        guard let ind = batch.column("indicator"), let val = batch.column("value") else {
            throw YingtongError("E-STORE-BATCH", "宏观数据批次缺少 indicator 或 value 列")
        }
        let unit = batch.column("unit")
        guard ind.present.count == n, ind.texts.count == n, val.present.count == n, val.numbers.count == n,
              unit.map({ $0.present.count == n && $0.texts.count == n }) ?? true else {
            throw YingtongError("E-STORE-BATCH", "宏观数据批次的列条数与记录数 \(n) 不一致")
        }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO macro (run_id, region_code, period, indicator, value, value_milli, unit, source_index, line)
            VALUES (?,?,?,?,?,?,?,?,?)
            """)
        var b = RawBinder(statement, db: db)
        for i in 0..<n {
            guard let code = ind.text(i) else { continue }
            b.int(run)
            b.text(batch.regionCode[i] ?? defaultRegion)
            b.int(Int64(batch.period[i]))
            b.text(code)
            if let m = val.milli(i) { b.text(m.description); b.int(m.raw) } else { b.null(); b.null() }
            b.text(unit?.text(i))
            b.int(Int64(batch.provenance[i].sourceIndex))
            b.int(Int64(batch.provenance[i].line))
            try b.step()
        }
    }

    static func insert(violations: [Violation], run: Int64, db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO violation (run_id, rule, severity, level, uscc, period, project_name, fields, observed,
              expected, imbalance, message, source_index, line) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """)
        var b = RawBinder(statement, db: db)
        for v in violations {
            b.int(run)
            b.text(v.rule)
            b.text(v.severity.rawValue)
            b.int(Int64(v.level))
            b.text(v.uscc)
            b.int(Int64(v.period))
            b.text(v.projectName)
            b.text(jsonArray(v.fields))
            b.text(v.observed)
            b.text(v.expected)
            b.text(v.imbalance)
            b.text(v.messageZh)
            b.int(Int64(v.sourceIndex))
            b.int(Int64(v.line))
            try b.step()
        }
    }

    static func insert(quarantine: [QuarantineEntry], run: Int64, db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO quarantine (run_id, source_index, file, line, line_end, "column", byte_offset, element_path,
              field, raw, code, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
            """)
        var b = RawBinder(statement, db: db)
        for q in quarantine {
            b.int(run)
            b.int(Int64(q.sourceIndex))
            b.text(q.file)
            b.int(Int64(q.line))
            b.int(Int64(q.lineEnd))
            b.int(q.column.map(Int64.init))
            b.int(q.byteOffset)
            b.text(q.elementPath)
            b.text(q.field)
            b.text(q.raw)
            b.text(q.code)
            b.text(q.messageZh)
            try b.step()
        }
    }
}
