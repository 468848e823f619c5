import GRDB
import YingtongModel
import GRDBSQLite

/// `SQLITE_TRANSIENT` is a C macro (a cast of -1) that Swift cannot import; GRDB defines it the same way.
let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// Binds values straight into a prepared statement with the `sqlite3_bind_*` API and steps it.
///
/// Used on GRDB's own prepared statements (`Statement.sqliteStatement`): GRDB's `StatementArguments` path
/// builds an array of `DatabaseValue` per row and re-validates it, which measured 4× slower for wide rows
/// (notes/swift-tech-probe.md, and BatchLoader.swift's header for this schema). GRDB's `execute()` must not be
/// called after raw binding — it re-checks its own argument bookkeeping and fails with SQLite error 21 — so
/// rows are stepped and reset here directly.
struct RawBinder {
    let stmt: OpaquePointer
    let db: Database
    var index: Int32 = 0

    init(_ statement: Statement, db: Database) {
        stmt = statement.sqliteStatement
        self.db = db
    }

    @inline(__always) mutating func null() {
        index += 1
        sqlite3_bind_null(stmt, index)
    }

    @inline(__always) mutating func int(_ v: Int64) {
        index += 1
        sqlite3_bind_int64(stmt, index, v)
    }

    @inline(__always) mutating func int(_ v: Int64?) {
        if let v { int(v) } else { null() }
    }

    @inline(__always) mutating func double(_ v: Double) {
        index += 1
        sqlite3_bind_double(stmt, index, v)
    }

    @inline(__always) mutating func text(_ v: String?) {
        index += 1
        guard let s = v else { sqlite3_bind_null(stmt, index); return }
        let i = index
        ByteText.withUTF8(s) { buf in
            if buf.isEmpty {
                // A nil pointer would bind NULL; an empty string is a value.
                sqlite3_bind_text(stmt, i, "", 0, sqliteTransient)
            } else {
                buf.withMemoryRebound(to: CChar.self) { c in
                    _ = sqlite3_bind_text(stmt, i, c.baseAddress, Int32(c.count), sqliteTransient)
                }
            }
        }
    }

    /// Steps the row and resets the statement for the next one.
    @inline(__always) mutating func step() throws {
        let rc = sqlite3_step(stmt)
        index = 0
        guard rc == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt)))
            sqlite3_reset(stmt)
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message)
        }
        sqlite3_reset(stmt)
    }
}

/// JSON text of a string array without a JSONEncoder per row (violation `fields`).
func jsonArray(_ items: [String]) -> String {
    var out = "["
    for (i, s) in items.enumerated() {
        if i > 0 { out += "," }
        JSONText.quote(s, into: &out)
    }
    return out + "]"
}
