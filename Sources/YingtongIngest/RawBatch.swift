import Foundation
import YingtongModel

/// One input of a run: its position in the run's input list, its path and what it is.
public struct SourceFile: Sendable, Hashable {
    public let index: Int32
    public let path: String
    public let role: String
    /// The form the pipeline declared, or nil to recognise it from the header.
    public let form: Form?
    /// `auto`, `utf-8`, `gb18030`, `cp936`.
    public let encoding: String
    /// The unit a money column has when its header names none (FORMATS §2: header unit overrides it).
    public let defaultMoneyUnit: String?
    /// Field separator; comma unless the pipeline declares tab or semicolon.
    public let separator: UInt8

    public init(index: Int32, path: String, role: String, form: Form? = nil, encoding: String = "auto",
                defaultMoneyUnit: String? = nil, separator: UInt8 = UInt8(ascii: ",")) {
        self.index = index
        self.path = path
        self.role = role
        self.form = form
        self.encoding = encoding
        self.defaultMoneyUnit = defaultMoneyUnit
        self.separator = separator
    }

    public var fileName: String { (path as NSString).lastPathComponent }
}

/// How one input column maps onto a dictionary field.
public struct ColumnBinding: Sendable, Hashable {
    /// 0-based column in the file (or the position in an XML element's field list).
    public let sourceColumn: Int
    public let field: FieldDefinition
    /// The unit the header or units row declared, nil when none (then the source default or canonical unit).
    public let declaredUnit: String?
    /// The header text as written, for messages.
    public let header: String

    public init(sourceColumn: Int, field: FieldDefinition, declaredUnit: String?, header: String) {
        self.sourceColumn = sourceColumn
        self.field = field
        self.declaredUnit = declaredUnit
        self.header = header
    }
}

/// What the header of a file said: its form, the bound columns, and the columns nobody knows.
public struct HeaderLayout: Sendable {
    public let form: Form
    public let formVersion: String
    public let bindings: [ColumnBinding]
    /// Headers that name no field: kept for the run log (info), never an error.
    public let unknownColumns: [String]
    /// Physical line of the header row.
    public let headerLine: Int32

    public init(form: Form, formVersion: String, bindings: [ColumnBinding], unknownColumns: [String], headerLine: Int32) {
        self.form = form
        self.formVersion = formVersion
        self.bindings = bindings
        self.unknownColumns = unknownColumns
        self.headerLine = headerLine
    }

    public func binding(for code: String) -> Int? { bindings.firstIndex { $0.field.code == code } }
}

/// Records as read, before normalization: each bound cell's UTF-8 text, held in one byte arena.
///
/// A CSV reader and an XML reader both produce these, so normalization and everything after it does not know
/// which format a record came from. Cells are stored row-major by binding (only bound columns are kept).
public struct RawBatch: Sendable {
    public let source: SourceFile
    public let layout: HeaderLayout
    public var arena: [UInt8] = []
    /// Per record × binding: start and end in `arena`; start < 0 means the cell was absent.
    public var cellStart: [Int32] = []
    public var cellEnd: [Int32] = []
    /// Per-cell unit that overrides the binding's (XML `<Value unit="万元">`), keyed by cell position.
    public var cellUnits: [Int: String] = [:]
    public var provenance: [Provenance] = []
    /// The raw record bytes (its physical lines as decoded), kept so a record quarantined later (bad identity)
    /// is stored whole: start and end in `arena` per record.
    public var rawStart: [Int32] = []
    public var rawEnd: [Int32] = []

    public init(source: SourceFile, layout: HeaderLayout) {
        self.source = source
        self.layout = layout
    }

    public var width: Int { layout.bindings.count }
    public var count: Int { provenance.count }
    /// Bytes held: a reader starts a new batch when this passes its budget, so a file of huge cells cannot
    /// blow memory up even when the record count is small.
    public var byteSize: Int { arena.count }

    /// Appends one record; `cells[i]` is the text for binding i, nil when absent.
    public mutating func append(cells: [ArraySlice<UInt8>?], provenance: Provenance, rawText: String) {
        precondition(cells.count == width)
        for cell in cells {
            if let cell { appendCell(cell) } else { appendAbsentCell() }
        }
        endRecord(provenance: provenance, raw: Array(rawText.utf8))
    }

    /// Low-level append used by the fast readers: `width` calls of `appendCell`/`appendAbsentCell`, then
    /// `endRecord`.
    @inline(__always)
    public mutating func appendCell(_ bytes: some Collection<UInt8>) {
        cellStart.append(Int32(arena.count))
        arena.append(contentsOf: bytes)
        cellEnd.append(Int32(arena.count))
    }

    @inline(__always)
    public mutating func appendAbsentCell() {
        cellStart.append(-1)
        cellEnd.append(-1)
    }

    public mutating func endRecord(provenance: Provenance, raw: some Collection<UInt8>) {
        rawStart.append(Int32(arena.count))
        arena.append(contentsOf: raw)
        rawEnd.append(Int32(arena.count))
        self.provenance.append(provenance)
    }

    public func rawText(_ row: Int) -> String {
        String(decoding: arena[Int(rawStart[row])..<Int(rawEnd[row])], as: UTF8.self)
    }

    /// Calls `body` with the cell's bytes, or nil when absent.
    @inline(__always)
    public func withCell<R>(_ row: Int, _ binding: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        let k = row * width + binding
        let s = Int(cellStart[k])
        if s < 0 { return try body(nil) }
        let e = Int(cellEnd[k])
        return try arena.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[s..<e])) }
    }

    /// The cell's bytes within an arena pointer obtained once per batch (`arena.withUnsafeBufferPointer`), for
    /// loops over every cell where a closure per cell costs more than the work.
    @inline(__always)
    public func cell(_ row: Int, _ binding: Int, in arena: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        let k = row * width + binding
        let s = Int(cellStart[k])
        if s < 0 { return nil }
        return UnsafeBufferPointer(rebasing: arena[s..<Int(cellEnd[k])])
    }

    public func cellText(_ row: Int, _ binding: Int) -> String? {
        withCell(row, binding) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    public func cellUnit(_ row: Int, _ binding: Int) -> String? { cellUnits[row * width + binding] }
}

/// Accounting of one input's physical lines: each is in a record, in quarantine, or was layout (title, header,
/// units row, footer, blank). The three add up to `physicalLines`, and the run manifest says so.
public struct LineAccount: Sendable, Codable, Hashable {
    public var physicalLines: Int = 0
    public var recordLines: Int = 0
    public var quarantinedLines: Int = 0
    public var layoutLines: Int = 0
    public var records: Int = 0
    public var quarantinedRecords: Int = 0
    public var bytes: Int64 = 0
    public var encoding: String = ""

    public init() {}

    public var balanced: Bool { physicalLines == recordLines + quarantinedLines + layoutLines }

    /// Records the reader delivered but a later stage quarantined (an unusable identity): their lines move from
    /// the record column to the quarantine column, so the account still adds up.
    public mutating func moveToQuarantine(lines: Int, records: Int) {
        recordLines -= lines
        quarantinedLines += lines
        self.records -= records
        quarantinedRecords += records
    }
}
