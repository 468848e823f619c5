import Foundation
import GRDB
import YingtongModel

/// The SQLite store of FORMATS §6: runs, records, projects, roster, macro values, findings and indicators.
///
/// A store is one SQLite file in WAL mode, opened through a GRDB `DatabasePool` so that reports can read the
/// last committed runs while a new run loads. Writing happens only through a ``RunWriter`` — one write
/// transaction per run, made visible all at once by ``RunWriter/commit()``.
///
/// ```swift
/// let store = try Store(path: "out/yingtong.sqlite")
/// let writer = try store.beginRun(RunInfo(pipeline: "county", regionCode: "330122", period: 2023,
///                                         yingtongVersion: "0.1.0"))
/// try writer.insert(batch)                 // RecordBatch of any form
/// try writer.insert(violations: found)
/// _ = try writer.resolveResubmissions()
/// _ = try writer.applyStatuses()
/// try writer.finish(manifest: manifest)
/// try writer.commit()
/// ```
public final class Store: Sendable {
    public let path: String
    public let dictionary: FieldDictionary
    let pool: DatabasePool
    let schemas: [Form: FormSchema]
    /// Whether a run drops the bulk tables' secondary indexes while it loads and rebuilds them before
    /// resolution. Off by default: it measured no faster on unsorted input (BatchLoader.swift), and a rebuild
    /// covers every run kept in the store, so its cost grows with the store's history.
    public let defersIndexes: Bool

    /// The page size of a new store file. A run is one transaction, so until it commits every page it wrote is
    /// read back through the WAL, and SQLite looks each one up in every 4,096-frame hash table of the WAL
    /// (`sqlite3WalFindFrame` was 8% of the CPU of the indicator and report stages at 1,000,000 enterprises with
    /// 4 KiB pages). Pages of 16 KiB make a quarter of the frames and a quarter of the lookups. Measured with
    /// `scripts/bench` (release, 1,000,000 enterprises, same data, one round): the full catalogue 167.2 → 153.0 s,
    /// with registries 240.9 → 215.2 s; without rules no change (104.3 / 105.1 s). Pages of 32 KiB measured the
    /// same as 16 KiB (113.1 / 155.8 / 218.5 s against 117.7 / 160.0 / 218.9 s) and write more per small update.
    static let pageSize = 16_384

    /// Whether the store was opened read-only (a `previous` store, an export): no migration, no run.
    public let isReadOnly: Bool

    /// Opens (creating if needed) the store at `path` and migrates it to the current schema.
    /// With `readOnly`, the file must exist and is neither created nor migrated.
    public init(path: String, dictionary: FieldDictionary = .standard, defersIndexes: Bool = false,
                readOnly: Bool = false) throws {
        self.path = path
        self.dictionary = dictionary
        self.defersIndexes = defersIndexes
        self.isReadOnly = readOnly
        var config = Configuration()
        config.readonly = readOnly
        // A run is one long transaction spanning many writer calls (beginRun … commit); GRDB must let it
        // stay open between accesses on the writer connection.
        config.allowsUnsafeTransactions = true
        config.foreignKeysEnabled = false
        // Another process may hold the write lock briefly (its commit); wait rather than fail at once.
        config.busyMode = .timeout(10)
        let slowSQL = ProcessInfo.processInfo.environment["YINGTONG_SLOW_SQL_MS"].flatMap(Double.init)
        config.prepareDatabase { db in
            // A diagnostic for benchmarks: statements slower than the threshold go to stderr with their duration.
            if let slowSQL {
                db.trace(options: .profile) { event in
                    guard case .profile(let statement, let duration) = event, duration * 1000 >= slowSQL else { return }
                    let sql = statement.sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                    FileHandle.standardError.write(Data("慢 SQL \(String(format: "%.2f", duration)) 秒：\(sql.joined(separator: " ").prefix(300))\n".utf8))
                }
            }
            // WAL: readers keep seeing the previous run while a new one loads; NORMAL sync is durable at
            // checkpoints and safe against corruption, which is what a rerunnable batch needs.
            if db.configuration.readonly { return }
            // Only a new, empty file takes it (an existing store keeps the page size it was made with).
            try db.execute(sql: "PRAGMA page_size = \(Store.pageSize)")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Sorts for window functions, COUNT(DISTINCT) and index builds spill to temporary files: in memory they
            // grew with the run (438 MB peak at 1M enterprises), breaking the bound by batch size.
            try db.execute(sql: "PRAGMA temp_store = FILE")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // A million-record run leaves a WAL of the database's size; cut it back after checkpoints.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        if readOnly && !FileManager.default.fileExists(atPath: path) {
            throw YingtongError("E-STORE-OPEN", "数据库文件不存在：\(path)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !readOnly, !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw YingtongError("E-STORE-OPEN", "无法打开数据库 \(path)：\(error)")
        }
        var schemas: [Form: FormSchema] = [:]
        for f in Form.allCases { schemas[f] = FormSchema.make(f, dictionary: dictionary) }
        self.schemas = schemas
        // Write only when the schema or the catalog is behind: opening a store (e.g. as the `previous` store)
        // must not wait for the write lock of a run being loaded into the same file.
        let migrator = Schema.migrator(dictionary: dictionary)
        if readOnly { return }
        let upToDate = try pool.read { db in
            try migrator.hasCompletedMigrations(db) && Schema.isInSync(db, dictionary: dictionary)
        }
        if !upToDate {
            try migrator.migrate(pool)
            try pool.write { db in
                try Schema.syncDictionaryColumns(db, dictionary: dictionary)
                try Schema.refreshFieldCatalog(db, dictionary: dictionary)
            }
        }
    }

    /// Closes the connections (and lets SQLite checkpoint and remove the `-wal` file).
    public func close() throws { try pool.close() }

    /// Starts a run: one write transaction that first removes the previous run of the same
    /// (pipeline, region, period) and everything hanging off it. Nothing is visible to readers until
    /// ``RunWriter/commit()``; ``RunWriter/rollback()`` or an error leaves the previous run as it was.
    public func beginRun(_ info: RunInfo) throws -> RunWriter {
        guard !isReadOnly else { throw YingtongError("E-STORE-READONLY", "数据库 \(path) 以只读方式打开，不能写入运行") }
        return try RunWriter(store: self, info: info)
    }

    /// Runs a read-only query on the last committed state (safe to call while a run is being written).
    ///
    /// ```swift
    /// let n = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") }
    /// ```
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Committed runs, newest first.
    public func runs() throws -> [RunSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, pipeline, region_code, period, started_at, finished_at, status, yingtong_version, counts
                FROM run ORDER BY id DESC
                """).map { row in
                let countsText: String = row["counts"] ?? "{}"
                let counts = (try? JSONDecoder().decode([String: Int].self, from: Data(countsText.utf8))) ?? [:]
                return RunSummary(id: row["id"], pipeline: row["pipeline"], regionCode: row["region_code"],
                                  period: row["period"], startedAt: row["started_at"], finishedAt: row["finished_at"],
                                  status: row["status"], yingtongVersion: row["yingtong_version"], counts: counts)
            }
        }
    }

    /// The committed run of (pipeline, region, period), if any.
    public func run(pipeline: String, regionCode: String, period: Int) throws -> RunSummary? {
        try runs().first { $0.pipeline == pipeline && $0.regionCode == regionCode && $0.period == period }
    }

    /// Records of a run, optionally only those with a given status.
    public func recordCount(run: Int64, status: RecordStatus? = nil) throws -> Int {
        try read { db in
            if let status {
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE run_id = ? AND status = ?",
                                        arguments: [run, status.rawValue]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE run_id = ?", arguments: [run]) ?? 0
        }
    }

    /// Rows of a run in any table that has `run_id` (record, project, violation, quarantine…).
    public func count(_ table: StoreTable, run: Int64) throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.rawValue) WHERE run_id = ?", arguments: [run]) ?? 0
        }
    }

    /// The indicators of a run, in the order they were computed.
    public func indicators(run: Int64) throws -> [IndicatorRow] {
        try read { db in try IndicatorTable.fetch(db, sql: "WHERE run_id = ? ORDER BY id", arguments: [run]) }
    }

    /// The indicators of the newest committed run for a region and period (the `previous` lookup), preferring
    /// runs of `pipeline` when there are several. A county's figures may come from its own run or from a city run
    /// over several counties (whose rows carry each county's code), so runs are found by their indicator rows.
    public func indicators(regionCode: String, period: Int, preferringPipeline pipeline: String? = nil) throws -> [IndicatorRow] {
        try read { db in
            let runID = try Int64.fetchOne(db, sql: """
                SELECT r.id FROM run r
                WHERE r.period = ?2 AND EXISTS (SELECT 1 FROM indicator i WHERE i.run_id = r.id AND i.region_code = ?1)
                ORDER BY (r.pipeline = ?3) DESC, (r.region_code = ?1) DESC, r.id DESC LIMIT 1
                """, arguments: [regionCode, period, pipeline ?? ""])
            guard let runID else { return [] }
            return try IndicatorTable.fetch(db, sql: "WHERE run_id = ? AND region_code = ? AND period = ? ORDER BY id",
                                            arguments: [runID, regionCode, period])
        }
    }

    /// Reads one stored record back as exact values (tests, feedback files): field code → value.
    public func recordValues(run: Int64, uscc: String, period: Int) throws -> [String: StoredValue]? {
        let schema = schemas[.activity]!
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM record WHERE run_id = ? AND uscc = ? AND period = ?",
                                             arguments: [run, uscc, period]) else { return nil }
            return StoredValue.decode(row: row, schema: schema)
        }
    }
}

/// Tables that carry a `run_id`.
public enum StoreTable: String, Sendable, CaseIterable {
    case record, recordHistory = "record_history", project, projectHistory = "project_history", roster, macro
    case violation, quarantine, indicator, explanation
    case torch = "torch_record", hte = "registry_hte", tsme = "registry_tsme"
    case taxDeduction = "registry_tax_deduction", techContract = "registry_tech_contract"
    case rdInstitution = "registry_rd_institution", patent = "registry_patent", govFunding = "registry_gov_funding"
    case omission
    case hteCandidates = "registry_hte_candidates", tsmeApplications = "registry_tsme_applications"
    case techLoan = "registry_tech_loan", platform = "registry_platform"
}

/// A stored field value decoded back to the dictionary's terms.
public enum StoredValue: Sendable, Hashable {
    case number(Milli)
    case text(String)

    public var milli: Milli? { if case .number(let m) = self { m } else { nil } }
    public var text: String? { if case .text(let t) = self { t } else { nil } }

    static func decode(row: Row, schema: FormSchema) -> [String: StoredValue] {
        var out: [String: StoredValue] = [:]
        for c in schema.fixed {
            switch row[c.name] as DatabaseValue? {
            case .some(let v) where !v.isNull:
                switch v.storage {
                case .int64(let i): out[c.name] = .text(String(i))
                case .string(let s): out[c.name] = .text(s)
                default: break
                }
            default: break
            }
        }
        for c in schema.fields {
            guard let storage = c.storage, let dbv = row[c.name] as DatabaseValue?, !dbv.isNull else { continue }
            if let m = milli(dbv, storage: storage) { out[c.name] = .number(m) }
            else if case .string(let s) = dbv.storage { out[c.name] = .text(s) }
        }
        return out
    }

    /// The exact milli behind a stored number: 元 for money, whole units for counts, ROUND(x·1000) for REAL.
    public static func milli(_ v: DatabaseValue, storage: FieldStorage) -> Milli? {
        switch (storage, v.storage) {
        case (.moneyYuan, .int64(let i)): return Milli(raw: i)
        case (.count, .int64(let i)): return Milli(units: i)
        case (.count, .double(let d)), (.real, .double(let d)), (.moneyYuan, .double(let d)):
            return Milli(raw: Int64((d * 1000).rounded()))
        case (.real, .int64(let i)): return Milli(units: i)
        default: return nil
        }
    }
}

enum IndicatorTable {
    static let columns = "region_code, period, code, name_zh, value, unit, prev_value, change, change_unit, growth_rate, target, completion_rate, rank, note"

    static func fetch(_ db: Database, sql: String, arguments: StatementArguments) throws -> [IndicatorRow] {
        try Row.fetchAll(db, sql: "SELECT \(columns) FROM indicator \(sql)", arguments: arguments).map { r in
            IndicatorRow(regionCode: r["region_code"], period: r["period"], code: r["code"], nameZh: r["name_zh"],
                         value: DecimalText.decimal(r["value"]), unit: r["unit"],
                         prevValue: DecimalText.decimal(r["prev_value"]), change: DecimalText.decimal(r["change"]),
                         changeUnit: r["change_unit"], growthRate: DecimalText.decimal(r["growth_rate"]),
                         target: DecimalText.decimal(r["target"]), completionRate: DecimalText.decimal(r["completion_rate"]),
                         rank: r["rank"], note: r["note"])
        }
    }

    static func insert(_ db: Database, run: Int64, rows: [IndicatorRow]) throws {
        let stmt = try db.makeStatement(sql: "INSERT OR REPLACE INTO indicator (run_id, \(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        for r in rows {
            try stmt.execute(arguments: [
                run, r.regionCode, r.period, r.code, r.nameZh, DecimalText.text(r.value), r.unit,
                DecimalText.text(r.prevValue), DecimalText.text(r.change), r.changeUnit,
                DecimalText.text(r.growthRate), DecimalText.text(r.target), DecimalText.text(r.completionRate),
                r.rank, r.note,
            ])
        }
    }
}
