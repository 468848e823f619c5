import Foundation
import GRDB
import YingtongModel
import YingtongStore

/// How one column of a store table is exported: its header for people and how its cells are typed.
///
/// The shape is read from the database itself (`PRAGMA table_info`) and the field dictionary, never listed per
/// table, so a table or a column added to the store (the 应统尽统 `omission` table, a new 107-2 row) is exported
/// without a change here.
public struct ExportColumn: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Money stored as integer 元; exported in the form's unit 千元 with three decimals (exact to the 元).
        case moneyThousandYuan
        /// INTEGER columns (counts, ids, line numbers, ranks).
        case integer
        /// REAL columns (person-months, FTE), written as stored.
        case real
        /// Exact decimal text (indicator values): a number for other tools, never passed through a Double here.
        case decimalText
        case text
    }

    /// The column's name in the store (stable English code, the JSON key and the CSV header).
    public let name: String
    /// Chinese header with the unit, for spreadsheets: `研究开发费用合计（千元）`.
    public let headerZh: String
    public let kind: Kind
    /// The unit this column's numbers are in, when one unit holds for the whole column.
    public let unit: String?

    public var isNumeric: Bool { kind != .text }
}

/// A store table as it is exported: its columns in storage order and the rows of one period.
public struct ExportTable: Sendable {
    public let name: String
    public let titleZh: String
    public let columns: [ExportColumn]
    /// Which filter selects one period: through `run_id`, an own `period` column, or none (catalog tables).
    let periodFilter: String?
    /// Which filter selects one run's rows: `run_id`, the run's own `id`, or none.
    let runFilter: String?

    /// Tables of the store people may export (SQLite's and GRDB's own bookkeeping left out).
    public static func names(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
            ORDER BY name
            """)
    }

    /// The export shape of `table`, or a `E-EXPORT-TABLE` error naming the tables there are.
    public static func load(_ db: Database, table: String, dictionary: FieldDictionary = .standard) throws -> ExportTable {
        let known = try names(db)
        guard known.contains(table) else {
            throw YingtongError("E-EXPORT-TABLE", "数据库中没有表 \(table)（可导出：\(known.joined(separator: "、"))）")
        }
        let infos = try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
        var columns: [ExportColumn] = []
        for info in infos {
            let name: String = info["name"]
            let declared = ((info["type"] as String?) ?? "").uppercased()
            columns.append(column(table: table, name: name, declared: declared, dictionary: dictionary))
        }
        let names = Set(columns.map(\.name))
        let filter: String?
        if table == "run" {
            filter = "period = ?"
        } else if names.contains("run_id") {
            filter = "run_id IN (SELECT id FROM run WHERE period = ?)"
        } else if names.contains("period") {
            filter = "period = ?"
        } else {
            filter = nil
        }
        let runFilter: String? = table == "run" ? "id = ?" : (names.contains("run_id") ? "run_id = ?" : nil)
        return ExportTable(name: table, titleZh: ColumnLabels.tableTitles[table] ?? table, columns: columns,
                           periodFilter: filter, runFilter: runFilter)
    }

    static func column(table: String, name: String, declared: String, dictionary: FieldDictionary) -> ExportColumn {
        if let decimalColumns = ColumnLabels.decimalText[table], decimalColumns.contains(name) {
            return ExportColumn(name: name, headerZh: ColumnLabels.label(table: table, column: name), kind: .decimalText, unit: nil)
        }
        if let f = dictionary.field(name), !f.isIdentity {
            let storage = FieldStorage(f.type)
            switch storage {
            case .moneyYuan:
                return ExportColumn(name: name, headerZh: "\(f.name)（千元）", kind: .moneyThousandYuan, unit: "千元")
            case .count:
                return ExportColumn(name: name, headerZh: f.unit.map { "\(f.name)（\($0)）" } ?? f.name, kind: .integer, unit: f.unit)
            case .real:
                return ExportColumn(name: name, headerZh: f.unit.map { "\(f.name)（\($0)）" } ?? f.name, kind: .real, unit: f.unit)
            case .text:
                return ExportColumn(name: name, headerZh: f.name, kind: .text, unit: nil)
            }
        }
        let header = ColumnLabels.label(table: table, column: name, identity: dictionary.field(name)?.name)
        let kind: ExportColumn.Kind
        if declared.contains("INT") { kind = .integer }
        else if declared.contains("REAL") || declared.contains("FLOA") || declared.contains("DOUB") { kind = .real }
        else { kind = .text }
        return ExportColumn(name: name, headerZh: header, kind: kind, unit: nil)
    }

    /// Streams the rows of `period` (all rows when nil or when the table has no period), or of one run, in
    /// storage order.
    public func forEachRow(_ db: Database, period: Int?, run: Int64? = nil, _ body: ([Cell]) throws -> Void) throws {
        let list = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        var sql = "SELECT \(list) FROM \"\(name)\""
        var arguments: StatementArguments = []
        if let run, let runFilter {
            sql += " WHERE \(runFilter)"
            arguments = [run]
        } else if let period, let periodFilter {
            sql += " WHERE \(periodFilter)"
            arguments = [period]
        }
        if columns.contains(where: { $0.name == "id" }) { sql += " ORDER BY id" }
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var cells = [Cell](repeating: .null, count: columns.count)
        while let row = try cursor.next() {
            for (i, c) in columns.enumerated() {
                cells[i] = Cell.make(row[i] as DatabaseValue, kind: c.kind)
            }
            try body(cells)
        }
    }
}

/// One exported value, already in the export's terms (money in 千元, decimals as exact text).
public enum Cell: Sendable, Hashable {
    case null
    case integer(Int64)
    /// Exact decimal text of a number (`-12.5`, `2009.100` is written `2009.1`).
    case number(String)
    case text(String)

    static func make(_ v: DatabaseValue, kind: ExportColumn.Kind) -> Cell {
        switch (kind, v.storage) {
        case (_, .null): return .null
        case (.moneyThousandYuan, .int64(let yuan)): return .number(Milli(raw: yuan).description)
        case (.moneyThousandYuan, .double(let yuan)): return .number(Milli(raw: Int64(yuan.rounded())).description)
        case (.decimalText, .string(let s)):
            // A stored decimal is a number for consumers; anything else stays the text it is.
            return DecimalText.decimal(s) != nil && Cell.isPlainDecimal(s) ? .number(s) : .text(s)
        case (_, .int64(let i)): return .integer(i)
        case (_, .double(let d)): return d.isFinite ? .number(Cell.text(of: d)) : .text(String(d))
        case (_, .string(let s)): return .text(s)
        case (_, .blob(let b)): return .text(b.base64EncodedString())
        }
    }

    /// The shortest text that reads back as the same Double, without exponent for ordinary magnitudes.
    static func text(of d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// `-?digits(.digits)?`: what every consumer (Excel, pandas, JSON) reads as the same number.
    static func isPlainDecimal(_ s: String) -> Bool {
        var u = Substring(s).utf8[...]
        if u.first == UInt8(ascii: "-") { u = u.dropFirst() }
        guard let f = u.first, f >= 48, f <= 57 else { return false }
        var seenDot = false
        var last: UInt8 = 0
        for b in u {
            if b == UInt8(ascii: ".") {
                if seenDot { return false }
                seenDot = true
            } else if b < 48 || b > 57 {
                return false
            }
            last = b
        }
        return last != UInt8(ascii: ".")
    }
}
