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

extension Store {
    /// One stored 107-2 record as exact values, read on `db`.
    public func recordValues(_ db: Database, run: Int64, uscc: String, period: Int) throws -> [String: StoredValue]? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM record WHERE run_id = ? AND uscc = ? AND period = ?",
                                         arguments: [run, uscc, period]) else { return nil }
        return StoredValue.decode(row: row, schema: schemas[.activity]!)
    }
}
