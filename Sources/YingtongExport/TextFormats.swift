import Foundation
import YingtongModel

/// Buffered, append-only file output: exports stream row by row, so memory stays bounded by the buffer, not
/// by the table.
public final class OutputFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let limit = 1 << 20
    public private(set) var bytesWritten: Int64 = 0

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw YingtongError("E-EXPORT-WRITE", "无法创建导出文件 \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(limit + 4096)
    }

    public func write(_ s: String) throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= limit { try flush() }
    }

    public func write(bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        bytesWritten += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() throws {
        try flush()
        try handle.close()
    }
}

/// CSV for other tools (FORMATS §6).
///
/// Plain CSV is for programs: UTF-8 without BOM, LF, the columns' codes as header, RFC 4180 quoting. With
/// `excel`, it is for people opening it in a spreadsheet: a BOM (so Excel reads UTF-8), CRLF, Chinese headers
/// with units, and every *text* cell that a spreadsheet would run as a formula (`= + - @`, and tab or CR, per
/// OWASP's CSV-injection advice) prefixed with `'`. Numeric cells are written as numbers and never escaped: a
/// negative change is a number, not a formula.
struct CSVTableWriter {
    let out: OutputFile
    let excel: Bool

    func begin(_ columns: [ExportColumn]) throws {
        if excel { try out.write(bytes: [0xEF, 0xBB, 0xBF]) }
        try line(columns.map { excel ? Self.escapeFormula($0.headerZh) : $0.name })
    }

    func row(_ cells: [Cell]) throws {
        try line(cells.map { cell in
            switch cell {
            case .null: return ""
            case .integer(let i): return String(i)
            case .number(let s): return s
            case .text(let s): return excel ? Self.escapeFormula(s) : s
            }
        })
    }

    private func line(_ fields: [String]) throws {
        var s = ""
        for (i, f) in fields.enumerated() {
            if i > 0 { s += "," }
            s += Self.quote(f)
        }
        s += excel ? "\r\n" : "\n"
        try out.write(s)
    }

    static func quote(_ f: String) -> String {
        guard f.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return f }
        return "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The characters a spreadsheet treats as the start of a formula (or that smuggle one past a naive check).
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    static func escapeFormula(_ s: String) -> String {
        guard let f = s.first, formulaStarts.contains(f) else { return s }
        return "'" + s
    }
}

/// JSON Lines: one object per row keyed by column code; numbers as JSON numbers (exact decimal text, money in
/// 千元), missing values as `null`.
struct JSONLinesTableWriter {
    let out: OutputFile
    var keys: [String] = []

    mutating func begin(_ columns: [ExportColumn]) throws {
        keys = columns.map { JSONText.quoted($0.name) + ":" }
    }

    func row(_ cells: [Cell]) throws {
        var s = "{"
        for (i, cell) in cells.enumerated() {
            if i > 0 { s += "," }
            s += keys[i]
            switch cell {
            case .null: s += "null"
            case .integer(let v): s += String(v)
            case .number(let v): s += v
            case .text(let v): JSONText.quote(v, into: &s)
            }
        }
        s += "}\n"
        try out.write(s)
    }
}
