import GRDB
import YingtongModel

// Reads on a connection the caller already holds: the reports of a run are written inside the run's own
// transaction (before it commits), so they must see its uncommitted rows through the writer's connection, and
// `yingtong report` reads the same way through `Store.read`.
extension IndicatorRow {
    /// The indicators of a run, in the order they were computed.
    public static func fetchAll(_ db: Database, run: Int64) throws -> [IndicatorRow] {
        try IndicatorTable.fetch(db, sql: "WHERE run_id = ? ORDER BY id", arguments: [run])
    }
}

extension OmissionEntry {
    /// A run's 应统尽统 list, largest estimated missing amount first.
    public static func fetchAll(_ db: Database, run: Int64) throws -> [OmissionEntry] {
        try fetch(db, run: run)
    }
}

/// A run's rows of any table are one rowid range: a run holds the write lock from its first row to its commit, and
/// SQLite gives a new row the largest rowid + 1. Passes over all of a run's rows scan that range in table order,
/// where the (run_id, …) indexes would fetch the rows at random (from the WAL, inside the run). The queries keep
/// `+run_id = ?` as a filter, so a range that ever held another run's rows stays correct.
public enum RunRange {
    /// The largest rowid below the run's first row of `table` (a ``StoreTable`` or registry table name).
    public static func floor(_ db: Database, table: String, run: Int64) throws -> Int64 {
        try Int64.fetchOne(db, sql: floorSQL(table, run: "?"), arguments: [run]) ?? 0
    }

    /// The same range as a condition on `alias`, for a query that binds the run as `?1`.
    public static func condition(_ table: String, alias: String) -> String {
        "\(alias).id > (\(floorSQL(table, run: "?1"))) AND +\(alias).run_id = ?1"
    }

    private static func floorSQL(_ table: String, run parameter: String) -> String {
        "SELECT COALESCE(MIN(id), 1) - 1 FROM \(table) WHERE run_id = \(parameter)"
    }
}

extension Store {
    /// One stored 107-2 record as exact values, read on `db`.
    public func recordValues(_ db: Database, run: Int64, uscc: String, period: Int) throws -> [String: StoredValue]? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM record WHERE run_id = ? AND uscc = ? AND period = ?",
                                         arguments: [run, uscc, period]) else { return nil }
        return StoredValue.decode(row: row, schema: schemas[.activity]!)
    }
}
