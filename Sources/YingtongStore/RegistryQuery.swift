import GRDB
import GRDBSQLite
import YingtongModel

/// What one registry holds for one enterprise: the sum of each numeric field over the matching rows (a flag
/// reads 1 for 是), how many rows matched, and the texts of the columns the omission list quotes.
public struct RegistryMatch: Sendable, Hashable {
    public var rows: Int = 0
    public var sums: [String: Milli] = [:]
    /// Each text column's values as SQLite's `group_concat` joins them (U+001F between values). The rule stage
    /// reads every registry match of a block with the texts the 应统尽统 list quotes, but only the list's subjects
    /// ever read them: splitting each match's texts into strings cost the reading thread an allocation per value.
    private(set) var joinedTexts: [String: String] = [:]

    /// Each text column's values. Empty values are not listed, and U+001F inside a value (a stray control byte in
    /// a CSV) is kept as a space: it separates values.
    public var texts: [String: [String]] {
        get { joinedTexts.mapValues(Self.split) }
        set {
            joinedTexts = newValue.mapValues { values in
                values.map { $0.contains("\u{1F}") ? $0.replacingOccurrences(of: "\u{1F}", with: " ") : $0 }
                    .joined(separator: "\u{1F}")
            }
        }
    }

    /// One text column's values (none when the column was not read).
    public func texts(_ column: String) -> [String] { joinedTexts[column].map(Self.split) ?? [] }

    private static func split(_ joined: String) -> [String] { joined.split(separator: "\u{1F}").map(String.init) }

    mutating func setJoinedText(_ column: String, _ joined: String?) { joinedTexts[column] = joined ?? "" }
}

/// SQL over a run's registry tables (`registry.*`, the roster, 火炬 data), keyed by USCC or, as a fallback for
/// reports whose USCC fails its check digit, by exact name. A registry's period rule and value filters
/// (`Reference/registries.yaml`) become its WHERE clause, so rows of other years or other contract types never
/// match.
public struct RegistryQuery: Sendable {
    public let registry: Registry
    public let schema: FormSchemaInfo
    let run: Int64

    public init(registry: Registry, run: Int64, store: Store) {
        self.registry = registry
        self.schema = FormSchemaInfo(store.schemas[registry.form]!)
        self.run = run
    }

    /// `WHERE` conditions beyond the run: the registry's period rule and value filters.
    func conditions(period: Int) -> (sql: String, arguments: [DatabaseValueConvertible]) {
        var sql = ""
        var args: [DatabaseValueConvertible] = []
        switch registry.period {
        case .any: break
        case .same:
            sql += " AND period = ?"
            args.append(period)
        case .yearOf(let column):
            sql += " AND CAST(substr(\(quoted(column)), 1, 4) AS INTEGER) = ?"
            args.append(period)
        case .validFor(let column, let years):
            sql += " AND CAST(substr(\(quoted(column)), 1, 4) AS INTEGER) BETWEEN ? AND ?"
            args += [period - years + 1, period]
        }
        for (column, values) in registry.filter.sorted(by: { $0.key < $1.key }) {
            sql += " AND \(quoted(column)) IN (\(Array(repeating: "?", count: values.count).joined(separator: ",")))"
            args += values as [DatabaseValueConvertible]
        }
        return (sql, args)
    }

    /// Matches for `keys` (USCCs, or names when `byName`), in one query per 900 keys.
    public func matches(_ db: Database, keys: [String], byName: Bool = false, period: Int, numeric: [String],
                        texts: [String] = []) throws -> [String: RegistryMatch] {
        var out: [String: RegistryMatch] = [:]
        let keyColumn = quoted(byName ? registry.nameField : registry.key)
        let (cond, condArgs) = conditions(period: period)
        let numericColumns = numeric.filter { schema.storage[$0] != nil }
        let select = selectList(keyColumn: keyColumn, numeric: numericColumns, texts: texts)
        try KeyChunks.forEach(keys) { chunk, marks in
            let sql = """
                SELECT \(select) FROM \(schema.table)
                WHERE run_id = ? AND \(keyColumn) IN (\(marks))\(cond) GROUP BY \(keyColumn)
                """
            let args: [DatabaseValueConvertible] = [run] + (chunk as [DatabaseValueConvertible]) + condArgs
            for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
                out[row[0]] = match(numeric: numericColumns, texts: texts) { row[$0] }
            }
        }
        return out
    }

    /// The key, the row count, each numeric field's sum (a 是/否 flag's largest as 1/0) and each text's values.
    func selectList(keyColumn: String, numeric numericColumns: [String], texts: [String]) -> String {
        var select = ["\(keyColumn)", "COUNT(*)"]
        for f in numericColumns {
            if schema.storage[f] == .text {
                select.append("MAX(CASE \(quoted(f)) WHEN '是' THEN 1 WHEN '否' THEN 0 END)")
            } else {
                select.append("SUM(\(quoted(f)))")
            }
        }
        for t in texts { select.append("group_concat(\(quoted(t)), char(31))") }
        return select.joined(separator: ", ")
    }

    /// A match from a row of `selectList`, read through `value(column)`.
    func match(numeric numericColumns: [String], texts: [String], _ value: (Int) -> DatabaseValue) -> RegistryMatch {
        var m = RegistryMatch()
        m.rows = Int.fromDatabaseValue(value(1)) ?? 0
        for (i, f) in numericColumns.enumerated() {
            let v = value(2 + i)
            if v.isNull { continue }
            let storage = schema.storage[f] == .text ? FieldStorage.count : schema.storage[f]!
            if let milli = StoredValue.milli(v, storage: storage) { m.sums[f] = milli }
        }
        for (i, t) in texts.enumerated() {
            m.setJoinedText(t, String.fromDatabaseValue(value(2 + numericColumns.count + i)))
        }
        return m
    }

    /// The index on (run_id, the registry's key), if the table has one.
    public func keyIndex(_ db: Database) throws -> String? {
        for name in try String.fetchAll(db, sql: "SELECT name FROM pragma_index_list(?)", arguments: [schema.table]) {
            let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name])
            if columns == ["run_id", registry.key] { return name }
        }
        return nil
    }

    /// The units this registry names for the period, with their name, region and the first row's location:
    /// (uscc, name, region_code, source_index, line). Rows without a USCC name no one.
    /// `alias` names the table for `condition`, an extra SQL condition on its rows. The run is bound first (`?1`).
    /// `rows`, a subquery of rowids, restricts the rows read (they are fetched by rowid); without it the run's
    /// rows are scanned in table order.
    public func unitsSQL(period: Int, localRegions: [String], alias: String = "g", condition: String? = nil,
                         rows: String? = nil) -> (sql: String, arguments: [DatabaseValueConvertible]) {
        let (cond, condArgs) = conditions(period: period)
        var sql = """
            SELECT \(quoted(registry.key)) AS uscc, \(quoted(registry.nameField)) AS name, region_code, source_index, line
            FROM \(schema.table) \(alias) \(rows.map { "WHERE \(alias).rowid IN (\($0))" }
                ?? "NOT INDEXED WHERE \(RunRange.condition(schema.table, alias: alias))")
              AND IFNULL(\(quoted(registry.key)), '') <> ''\(cond)
            """
        if let condition { sql += " AND " + condition }
        var args: [DatabaseValueConvertible] = [run] + condArgs
        if !localRegions.isEmpty {
            // A row that gives a region must be this county's; a row without one is taken as local.
            sql += " AND (region_code IS NULL OR " + localRegions.map { _ in "region_code LIKE ? || '%'" }.joined(separator: " OR ") + ")"
            args += localRegions as [DatabaseValueConvertible]
        }
        return (sql, args)
    }
}

/// The parts of a form table's shape other modules need: its name and each field's storage.
public struct FormSchemaInfo: Sendable {
    public let table: String
    public let storage: [String: FieldStorage]

    init(_ s: FormSchema) {
        table = s.table
        var m: [String: FieldStorage] = [:]
        for c in s.fields { if let st = c.storage { m[c.name] = st } }
        storage = m
    }
}

/// A registry's matches for every USCC, read in one pass in USCC order, for a caller that asks for ascending,
/// non-overlapping ranges of USCCs (the rule stage's blocks, the omission list's). The run's rows (its rowid range,
/// so a store's older runs are not read) are scanned once and grouped by SQLite's sorter: looking each block's keys
/// up through the index fetched every registry row from a random page, which beyond the page cache was two thirds
/// of the rule stage (300,000 enterprises).
public final class RegistryStream {
    private let rows: SortedStatement
    private let query: RegistryQuery
    private let numeric: [String]
    private let texts: [String]

    /// `texts`: columns whose values each match lists (the omission list's evidence).
    public init(_ db: Database, query: RegistryQuery, period: Int, numeric: [String], texts: [String] = []) throws {
        self.query = query
        self.numeric = numeric.filter { query.schema.storage[$0] != nil }
        self.texts = texts
        let key = quoted(query.registry.key)
        let (cond, condArgs) = query.conditions(period: period)
        rows = try SortedStatement(db, sql: """
            SELECT \(query.selectList(keyColumn: key, numeric: self.numeric, texts: texts)) FROM \(query.schema.table) g NOT INDEXED
            WHERE \(RunRange.condition(query.schema.table, alias: "g")) AND \(key) IS NOT NULL\(cond) GROUP BY \(key) ORDER BY \(key)
            """, arguments: [query.run] + condArgs, keyColumn: 0, what: "外部名单")
    }

    /// The matches of `wanted`, USCCs in ascending byte order (as SQLite sorts; repeats allowed) following those of
    /// the previous call; the stream's keys before them are passed over. Both sides are sorted, so they are walked
    /// side by side: a registry lists many units the block does not hold, and hashing every one of them into a set
    /// lookup, then building their matches, was most of this function's time.
    public func matches(wanted: [String]) throws -> [String: RegistryMatch] {
        var out: [String: RegistryMatch] = [:]
        guard let first = wanted.first, let last = wanted.last else { return out }
        var next = 0
        while rows.hasRow, rows.compareKey(last) <= 0 {
            if rows.compareKey(first) >= 0 {
                while next < wanted.count, rows.compareKey(wanted[next]) > 0 { next += 1 }
                if next < wanted.count, rows.compareKey(wanted[next]) == 0 {
                    out[wanted[next]] = query.match(numeric: numeric, texts: texts) { DatabaseValue(sqliteStatement: rows.stmt!, index: Int32($0)) }
                }
            }
            try rows.advance()
        }
        return out
    }

    /// Finalizes the statement on the connection's queue (also after the run failed).
    public func close(store: Store) { rows.close(store: store) }
}

/// The streams of one ordered pass, one per (registry, period), each opened by the first block that needs it and
/// all closed together when the pass ends (or fails).
public final class RegistryStreams {
    private let store: Store
    private let run: Int64
    private var open: [String: RegistryStream] = [:]

    public init(store: Store, run: Int64) {
        self.store = store
        self.run = run
    }

    /// The stream of `registry` for `period`; `numeric` and `texts` apply when it is opened.
    public func stream(_ db: Database, _ registry: Registry, period: Int, numeric: [String],
                       texts: [String] = []) throws -> RegistryStream {
        let id = "\(registry.name)|\(period)"
        if let s = open[id] { return s }
        let s = try RegistryStream(db, query: RegistryQuery(registry: registry, run: run, store: store), period: period,
                                   numeric: numeric, texts: texts)
        open[id] = s
        return s
    }

    public func closeAll() {
        for s in open.values { s.close(store: store) }
        open.removeAll()
    }
}
