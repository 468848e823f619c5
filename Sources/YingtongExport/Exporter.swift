import Foundation
import GRDB
import YingtongModel
import YingtongStore

/// The export formats of `yingtong export` and of a pipeline's `outputs.exports`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, xlsx, jsonl, sdmx

    public var fileExtension: String { self == .sdmx ? "xml" : rawValue }
}

/// One export a pipeline asks for: `outputs: {exports: [{table: indicator, format: xlsx}]}`.
public struct ExportRequest: Sendable, Hashable {
    public var tables: [String]
    public var format: ExportFormat
    public var excel: Bool
    /// File name inside the outputs folder; defaults to `TABLE.EXT` (`indicator.xlsx`, `record-excel.csv`).
    public var file: String?

    public init(tables: [String], format: ExportFormat, excel: Bool = false, file: String? = nil) {
        self.tables = tables
        self.format = format
        self.excel = excel
        self.file = file
    }

    public var defaultFileName: String {
        file ?? "\(tables.joined(separator: "+"))\(excel ? "-excel" : "").\(format.fileExtension)"
    }
}

/// What an export wrote.
public struct ExportSummary: Sendable, Hashable {
    public var path: String
    public var rows: [String: Int]
}

/// Writes store tables in the formats other tools read (FORMATS §6). Every format streams from a SQLite
/// cursor, so memory does not grow with the table.
///
/// ```swift
/// let store = try Store(path: "out/demo-county/yingtong.sqlite", readOnly: true)
/// try Exporter.export(store: store, period: 2023, tables: ["indicator"], format: .xlsx, to: "out/indicator.xlsx")
/// ```
public enum Exporter {
    public static func export(store: Store, period: Int?, tables: [String], format: ExportFormat, excel: Bool = false,
                              to path: String) throws -> ExportSummary {
        try store.read { db in try export(db: db, period: period, run: nil, tables: tables, format: format, excel: excel, to: path) }
    }

    /// The rows of one run (what a pipeline's `outputs.exports` writes), on an open database: a run calls it inside
    /// its transaction, before it commits.
    public static func export(db: Database, run: Int64, tables: [String], format: ExportFormat, excel: Bool = false,
                              to path: String) throws -> ExportSummary {
        let period = try Int.fetchOne(db, sql: "SELECT period FROM run WHERE id = ?", arguments: [run])
        return try export(db: db, period: period, run: run, tables: tables, format: format, excel: excel, to: path)
    }

    /// Rows of `period` (every period when nil), or of `run` when given.
    public static func export(db: Database, period: Int?, run: Int64?, tables: [String], format: ExportFormat, excel: Bool = false,
                              to path: String, dictionary: FieldDictionary = .standard) throws -> ExportSummary {
        guard !tables.isEmpty else { throw YingtongError("E-EXPORT-TABLE", "没有指定要导出的表") }
        if format != .xlsx && tables.count > 1 {
            throw YingtongError("E-EXPORT-TABLE", "\(format.rawValue) 一次只能导出一个表（多个表请用 xlsx，每表一个工作表）")
        }
        if format == .sdmx && tables != ["indicator"] {
            throw YingtongError("E-EXPORT-FORMAT", "SDMX-ML 只用于指标表（--table indicator）")
        }
        let shapes = try tables.map { try ExportTable.load(db, table: $0, dictionary: dictionary) }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var rows: [String: Int] = [:]
        switch format {
        case .sdmx:
            rows["indicator"] = try SDMXIndicatorWriter.write(db, period: period, run: run, to: path)
        case .csv:
            let out = try OutputFile(path: path)
            let w = CSVTableWriter(out: out, excel: excel)
            let t = shapes[0]
            try w.begin(t.columns)
            var n = 0
            try t.forEachRow(db, period: period, run: run) { try w.row($0); n += 1 }
            try out.close()
            rows[t.name] = n
        case .jsonl:
            let out = try OutputFile(path: path)
            var w = JSONLinesTableWriter(out: out)
            let t = shapes[0]
            try w.begin(t.columns)
            var n = 0
            try t.forEachRow(db, period: period, run: run) { try w.row($0); n += 1 }
            try out.close()
            rows[t.name] = n
        case .xlsx:
            let book = try XLSXWriter(path: path)
            for t in shapes {
                try book.beginSheet(name: t.name, columns: t.columns)
                var n = 0
                try t.forEachRow(db, period: period, run: run) { try book.row($0); n += 1 }
                rows[t.name] = n
            }
            try book.finish()
        }
        return ExportSummary(path: path, rows: rows)
    }
}
