import Foundation
import GRDB
import GRDBSQLite
import YingtongModel

/// A sorted SELECT stepped across several `withDatabase` calls, with one row of look-ahead: how the rule stage
/// walks the run's records, projects and each registry side by side in USCC order, and the omission list its
/// subjects. The connection is serialized by GRDB, and those stages write only other tables while these are open. Raw sqlite3 handles, because a GRDB
/// statement or cursor may not outlive the closure that made it.
final class SortedStatement {
    private(set) var stmt: OpaquePointer?
    /// Whether a row is current (false once the rows are done).
    private(set) var hasRow = false
    /// The current row's sort key as SQLite holds it, valid until the next step. The walks compare keys millions
    /// of times and keep few of them: making a String of every key, and comparing with the generic
    /// `lexicographicallyPrecedes` on UTF-8 views, was 15% of the rule stage's reading thread.
    private var keyBytes: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    private var keyString: String?
    private let keyColumn: Int32
    private let what: String

    /// `what` names the data in error messages (运行数据, 外部名单); `keyColumn` is the sort key's column.
    init(_ db: Database, sql: String, arguments: [DatabaseValueConvertible], keyColumn: Int32, what: String) throws {
        self.keyColumn = keyColumn
        self.what = what
        guard sqlite3_prepare_v2(db.sqliteConnection, sql, -1, &stmt, nil) == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_finalize(stmt)
            throw YingtongError("E-STORE-READ", "读取\(what)失败：\(message)")
        }
        for (i, a) in arguments.enumerated() {
            switch a.databaseValue.storage {
            case .int64(let v): sqlite3_bind_int64(stmt, Int32(i + 1), v)
            case .string(let v): sqlite3_bind_text(stmt, Int32(i + 1), v, -1, sqliteTransient)
            case .double(let v): sqlite3_bind_double(stmt, Int32(i + 1), v)
            default: sqlite3_bind_null(stmt, Int32(i + 1))
            }
        }
        // The first step runs the whole sort.
        try SorterMemory.bounded(db) { try advance() }
    }

    /// Moves to the next row.
    func advance() throws {
        let rc = sqlite3_step(stmt)
        keyString = nil
        if rc == SQLITE_ROW {
            hasRow = true
            let text = sqlite3_column_text(stmt, keyColumn)
            keyBytes = UnsafeRawBufferPointer(start: text, count: text == nil ? 0 : Int(sqlite3_column_bytes(stmt, keyColumn)))
        } else if rc == SQLITE_DONE {
            hasRow = false
            keyBytes = .init(start: nil, count: 0)
        } else {
            throw YingtongError("E-STORE-READ", "读取\(what)失败：\(String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt))))")
        }
    }

    /// Finalizes the statement on the connection's queue (also after the run failed, when withDatabase refuses).
    func close(store: Store) {
        let statement = stmt
        stmt = nil
        hasRow = false
        keyBytes = .init(start: nil, count: 0)
        keyString = nil
        store.pool.writeWithoutTransaction { _ in _ = sqlite3_finalize(statement) }
    }

    /// The current row's sort key, nil once the rows are done (made on first use for the row).
    var currentKey: String? {
        guard hasRow else { return nil }
        if let keyString { return keyString }
        let made = String(decoding: keyBytes, as: UTF8.self)
        keyString = made
        return made
    }

    /// The current key against `other` in SQLite's BINARY order: negative, zero or positive (no row: positive,
    /// as if the rows went on past every key).
    func compareKey(_ other: String) -> Int {
        guard hasRow else { return 1 }
        let keyBytes = self.keyBytes
        return ByteText.withUTF8(other) { Self.compare(keyBytes, UnsafeRawBufferPointer($0)) }
    }

    /// memcmp order, a shorter prefix first: SQLite's BINARY collation, which Swift's String order does not
    /// promise for every text.
    private static func compare(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Int {
        let n = Swift.min(x.count, y.count)
        if n > 0, let a = x.baseAddress, let b = y.baseAddress {
            let c = memcmp(a, b, n)
            if c != 0 { return Int(c) }
        }
        return x.count - y.count
    }
}

/// SQLite sizes each sorter's memory from the connection's cache_size when the sort starts (its first step):
/// three sorters of 64 MB each were most of the rule stage's peak RSS. The sorts start with a small cache and
/// spill to temp files sooner; the cache is restored for everything else.
///
/// The same first step gets one helper thread (`PRAGMA threads`, also read when the sorter starts): the rule
/// stage's first block waits for the sort of every record and project while the evaluating thread has nothing
/// to do. At 1,000,000 enterprises with the catalogue the rule stage went from 33.6 to 29.6 s (same round, peak
/// RSS 296 → 309 MB). Helper threads for every statement of the run had cost the indicator and report stages
/// 4–5 s, so the setting is put back to none right after.
enum SorterMemory {
    static let kibibytes = 8192
    static let helperThreads = 1

    static func bounded<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        let previous = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
        let previousThreads = try Int.fetchOne(db, sql: "PRAGMA threads") ?? 0
        try db.execute(sql: "PRAGMA cache_size = -\(kibibytes)")
        try db.execute(sql: "PRAGMA threads = \(helperThreads)")
        defer {
            try? db.execute(sql: "PRAGMA cache_size = \(previous)")
            try? db.execute(sql: "PRAGMA threads = \(previousThreads)")
        }
        return try body()
    }
}

