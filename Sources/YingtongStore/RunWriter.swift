import Foundation
import GRDB
import YingtongModel

/// An explanation (上报说明) an enterprise sent for a 核实性 finding; matched to violations by
/// (uscc, period, rule) in ``RunWriter/applyStatuses()``.
/// The store keeps explanations exactly as the readers deliver them.
public typealias ExplanationNote = Explanation

/// What ``RunWriter/resolveResubmissions()`` moved to history.
public struct ResubmissionCounts: Sendable, Hashable {
    /// 107-2 records that lost to a later submission of the same (uscc, period).
    public var records: Int
    /// 107-1 projects of submissions that lost to a later project set of the same enterprise.
    public var projects: Int
    /// Violations of those losers, now `superseded = 1`.
    public var violations: Int
}

/// Records and projects per status after ``RunWriter/applyStatuses()``.
public struct StatusCounts: Sendable, Hashable {
    public var records: [RecordStatus: Int]
    public var projects: [RecordStatus: Int]
}

/// The write side of one run: a single SQLite write transaction from ``Store/beginRun(_:)`` to ``commit()``.
///
/// Every method runs inside that transaction. If any of them throws, the transaction is rolled back at once and
/// the writer is closed: a half-written run can never be committed, and the previous run of the same key is
/// still there. Dropping a writer without committing also rolls back.
///
/// Not thread-safe by design: one pipeline task feeds one writer, batch after batch.
public final class RunWriter {
    public let runID: Int64
    public let info: RunInfo
    public let store: Store
    private var open = true
    private var indexesDeferred: Bool
    /// The name indexes dropped for the load (their CREATE statements), rebuilt by ``finishLoading()``.
    private var deferredNameIndexes: [String] = []
    /// Whether any row of the run may have a status other than `clean` that ``nonCleanRows`` does not list (more
    /// rows arrived not clean than it keeps, or statuses were applied once): then applyStatuses() reads the whole
    /// tables for them.
    var mayHoldNonCleanStatus = false

    init(store: Store, info: RunInfo) throws {
        self.store = store
        self.info = info
        let defer_ = store.defersIndexes
        indexesDeferred = defer_
        var deferredNames: [String] = []
        runID = try store.pool.writeWithoutTransaction { db in
            guard !db.isInsideTransaction else {
                throw YingtongError("E-STORE-BUSY", "已有一个运行正在写入该数据库，不能同时开始另一个运行")
            }
            try db.beginTransaction(.immediate)
            do {
                let old = try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE pipeline = ? AND region_code = ? AND period = ?",
                                             arguments: [info.pipeline, info.regionCode, info.period])
                for id in old {
                    for table in StoreTable.allCases {
                        try db.execute(sql: "DELETE FROM \(table.rawValue) WHERE run_id = ?", arguments: [id])
                    }
                    try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id])
                }
                if defer_ {
                    for (name, _) in Schema.bulkIndexes { try db.execute(sql: "DROP INDEX IF EXISTS \(name)") }
                }
                for index in try Schema.nameIndexesOfEmptyTables(db) {
                    try db.execute(sql: "DROP INDEX \(index.name)")
                    deferredNames.append(index.sql)
                }
                let settings = try JSONEncoder.sorted.encode(info.settings)
                try db.execute(sql: """
                    INSERT INTO run (pipeline, region_code, period, started_at, status, yingtong_version, settings)
                    VALUES (?, ?, ?, ?, 'running', ?, ?)
                    """, arguments: [info.pipeline, info.regionCode, info.period, Timestamp.text(info.startedAt),
                                     info.yingtongVersion, String(decoding: settings, as: UTF8.self)])
                return db.lastInsertedRowID
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                throw error
            }
        }
        deferredNameIndexes = deferredNames
    }

    deinit {
        if open { try? rollback() }
    }

    /// Whether the writer can still write (not committed, rolled back or failed).
    public var isOpen: Bool { open }

    /// Runs `body` inside the run's transaction: what other stages (indicators) use to query and write the
    /// run's rows before they are committed. An error thrown by `body` rolls the run back.
    public func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        guard open else { throw YingtongError("E-STORE-CLOSED", "运行 \(runID) 已提交或已回滚，不能再写入") }
        do {
            return try store.pool.writeWithoutTransaction { db in
                guard db.isInsideTransaction else {
                    throw YingtongError("E-STORE-TX", "运行 \(runID) 的事务已被 SQLite 中止")
                }
                return try body(db)
            }
        } catch {
            try? rollback()
            throw error
        }
    }

    /// Appends a batch to its form's table: 107-2 → `record`, 107-1 → `project`, roster → `roster`, macro →
    /// `macro` rows.
    public func insert(_ batch: RecordBatch) throws {
        let run = runID
        let schemas = store.schemas
        let region = info.regionCode
        let nonClean: [Int64] = try withDatabase { db in
            switch batch.form {
            case .macro:
                try BatchLoader.insertMacro(batch, run: run, defaultRegion: region, db: db)
                return []
            default:
                return try BatchLoader.insert(batch, schema: schemas[batch.form]!, run: run, db: db)
            }
        }
        if !nonClean.isEmpty, !mayHoldNonCleanStatus {
            if batch.form == .activity || batch.form == .projects {
                nonCleanRows[batch.form == .activity ? "record" : "project", default: []] += nonClean
            }
            if nonCleanRows.values.reduce(0, { $0 + $1.count }) > Self.nonCleanRowsKept {
                mayHoldNonCleanStatus = true
                nonCleanRows = [:]
            }
        }
    }

    /// Rows loaded with a status other than clean, by table: applyStatuses() resets just these, where resetting
    /// "every row not clean" read the run's whole record and project tables (a tenth of the 1M base run).
    var nonCleanRows: [String: [Int64]] = [:]
    /// Beyond this many such rows the reset reads the tables instead (the list stays bounded).
    static let nonCleanRowsKept = 1_000_000

    public func insert(violations: [Violation]) throws {
        let run = runID
        try withDatabase { db in try BatchLoader.insert(violations: violations, run: run, db: db) }
    }

    public func insert(quarantine: [QuarantineEntry]) throws {
        let run = runID
        try withDatabase { db in try BatchLoader.insert(quarantine: quarantine, run: run, db: db) }
    }

    public func insert(explanations: [ExplanationNote]) throws {
        let run = runID
        try withDatabase { db in
            let stmt = try db.cachedStatement(sql: """
                INSERT INTO explanation (run_id, uscc, period, rule, text, source_index, line) VALUES (?,?,?,?,?,?,?)
                """)
            for e in explanations {
                try stmt.execute(arguments: [run, e.uscc, e.period, e.rule, e.text, e.sourceIndex, e.line])
            }
        }
    }

    /// Writes indicator rows (replacing rows of the same region, period and code in this run).
    public func insert(indicators: [IndicatorRow]) throws {
        let run = runID
        try withDatabase { db in try IndicatorTable.insert(db, run: run, rows: indicators) }
    }

    /// Rebuilds the secondary indexes dropped for the bulk load (see BatchLoader.swift). Resolution, statuses
    /// and commit call it themselves; call it directly only to time the load's phases or before your own
    /// queries over the run's rows. Inserting more rows afterwards is allowed, just slower.
    public func finishLoading() throws {
        if !deferredNameIndexes.isEmpty {
            let statements = deferredNameIndexes
            // Built with the sorts' small memory and helper thread (SorterMemory).
            try withDatabase { db in try SorterMemory.bounded(db) { for sql in statements { try db.execute(sql: sql) } } }
            deferredNameIndexes = []
        }
        guard indexesDeferred else { return }
        try withDatabase { db in
            for (_, sql) in Schema.bulkIndexes { try db.execute(sql: sql) }
        }
        indexesDeferred = false
    }

    /// Records the run's manifest (inputs with hashes, rule packs, counts) in its `run` row.
    public func finish(manifest: RunManifest) throws {
        let run = runID
        let inputs = String(decoding: try JSONEncoder.sorted.encode(manifest.inputs), as: UTF8.self)
        let packs = String(decoding: try JSONEncoder.sorted.encode(manifest.rulePacks), as: UTF8.self)
        let counts = String(decoding: try JSONEncoder.sorted.encode(manifest.counts), as: UTF8.self)
        try withDatabase { db in
            try db.execute(sql: """
                UPDATE run SET finished_at = ?, status = ?, inputs = ?, rule_packs = ?, counts = ? WHERE id = ?
                """, arguments: [Timestamp.text(manifest.finishedAt), manifest.status, inputs, packs, counts, run])
        }
    }

    /// Makes the whole run visible at once, replacing the previous run of the same key.
    public func commit() throws {
        try finishLoading()
        let run = runID
        let now = Timestamp.text(Date())
        try withDatabase { db in
            // A run committed without finish(manifest:) is still a complete run; say so rather than "running".
            try db.execute(sql: "UPDATE run SET status = 'ok', finished_at = ? WHERE id = ? AND status = 'running'",
                           arguments: [now, run])
            StageHook.reached("commit")
            try db.commit()
            // Copy the run into the database file and empty the WAL now. Left to the last connection's close, it did
            // not happen when another connection to the file stayed open (the run's read-only `previous` store is
            // usually this file): a small run (under SQLite's 1,000-page automatic checkpoint, like the demo county)
            // lived only in `yingtong.sqlite-wal`, so a copy of the .sqlite file alone was empty; a large one left a
            // WAL of its own size (1.1 GB at 1M enterprises) that every later open read to rebuild its index.
            // The run is committed either way: a reader in the middle of a query makes this wait (the busy timeout)
            // and give up, and a later checkpoint finishes it.
            _ = try? Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        open = false
    }

    /// Abandons the run; the store is as it was before ``Store/beginRun(_:)``.
    public func rollback() throws {
        guard open else { return }
        open = false
        try store.pool.writeWithoutTransaction { db in
            if db.isInsideTransaction { try db.rollback() }
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
