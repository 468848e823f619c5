import Foundation

/// Where a record or value came from: the input file and the physical lines (or the XML element path).
public struct Provenance: Sendable, Hashable, Codable {
    /// Index of the input in the run's input list.
    public var sourceIndex: Int32
    /// First and last physical line (1-based) of the record; equal unless a quoted field spans lines.
    public var line: Int32
    public var lineEnd: Int32
    /// Byte offset of the record's first byte in the original (undecoded) file.
    public var byteOffset: Int64
    /// XML element path (`/RDReport/Enterprise[12]`), nil for CSV.
    public var elementPath: String?

    public init(sourceIndex: Int32, line: Int32, lineEnd: Int32, byteOffset: Int64, elementPath: String? = nil) {
        self.sourceIndex = sourceIndex
        self.line = line
        self.lineEnd = lineEnd
        self.byteOffset = byteOffset
        self.elementPath = elementPath
    }

    public var lineCount: Int { Int(lineEnd - line + 1) }
}

/// Severity of a finding (DOMAIN §3): `error` = 强制性审核, `warning` = 核实性审核, `info`.
public enum Severity: String, Sendable, Codable, Comparable {
    case error, warning, info

    public var labelZh: String {
        switch self {
        case .error: "强制性"
        case .warning: "核实性"
        case .info: "提示"
        }
    }

    private var rank: Int { self == .error ? 2 : self == .warning ? 1 : 0 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// Input that could not become a record or a value: kept whole, located, explained in Chinese.
public struct QuarantineEntry: Sendable, Codable, Hashable {
    public var sourceIndex: Int32
    public var file: String
    public var line: Int32
    public var lineEnd: Int32
    public var column: Int32?
    public var byteOffset: Int64?
    public var elementPath: String?
    /// The field blamed, when one value (not the whole record) is quarantined.
    public var field: String?
    /// The raw text as read (the whole physical line(s) for a record, the cell for a value).
    public var raw: String
    /// Stable machine code: `E-CSV-QUOTE`, `E-ENCODING`, `E-VALUE-NUMBER`, `E-USCC-MISSING`…
    public var code: String
    public var messageZh: String

    public init(sourceIndex: Int32, file: String, line: Int32, lineEnd: Int32, column: Int32? = nil,
                byteOffset: Int64? = nil, elementPath: String? = nil, field: String? = nil, raw: String,
                code: String, messageZh: String) {
        self.sourceIndex = sourceIndex
        self.file = file
        self.line = line
        self.lineEnd = lineEnd
        self.column = column
        self.byteOffset = byteOffset
        self.elementPath = elementPath
        self.field = field
        self.raw = raw
        self.code = code
        self.messageZh = messageZh
    }

    /// Whether the whole record (its physical lines) went to quarantine, as opposed to one value of a record.
    public var isRecordLevel: Bool { field == nil || code.hasPrefix("E-ID") || code.hasPrefix("E-CSV") || code == "E-ENCODING" }

    /// `文件 a.csv 第 12 行第 3 列` — the location as people read it.
    public var locationZh: String {
        var s = "文件 \(file) 第 \(line) 行"
        if lineEnd != line { s += "至第 \(lineEnd) 行" }
        if let column { s += "第 \(column) 列" }
        if let byteOffset { s += "（字节偏移 \(byteOffset)）" }
        if let elementPath { s += " 元素 \(elementPath)" }
        return s
    }
}

/// A rule finding on a parsed record (V001–V005 in the foundation; the rule engine adds the rest).
public struct Violation: Sendable, Codable, Hashable {
    public var rule: String
    public var severity: Severity
    /// ESS validation level 0–5 (0 = file/format).
    public var level: Int
    public var uscc: String
    public var period: Int
    public var projectName: String?
    public var fields: [String]
    public var observed: String
    public var expected: String?
    public var imbalance: String?
    public var messageZh: String
    public var sourceIndex: Int32
    public var line: Int32

    public init(rule: String, severity: Severity, level: Int, uscc: String, period: Int, projectName: String? = nil,
                fields: [String], observed: String, expected: String? = nil, imbalance: String? = nil,
                messageZh: String, sourceIndex: Int32, line: Int32) {
        self.rule = rule
        self.severity = severity
        self.level = level
        self.uscc = uscc
        self.period = period
        self.projectName = projectName
        self.fields = fields
        self.observed = observed
        self.expected = expected
        self.imbalance = imbalance
        self.messageZh = messageZh
        self.sourceIndex = sourceIndex
        self.line = line
    }
}

/// A run-level failure: the run cannot be done (exit code 2), with a one-line Chinese reason.
public struct YingtongError: Error, CustomStringConvertible, Sendable {
    public let code: String
    public let messageZh: String

    public init(_ code: String, _ messageZh: String) {
        self.code = code
        self.messageZh = messageZh
    }

    public var description: String { "[\(code)] \(messageZh)" }
}

/// An explanation the enterprise sent for a 核实性 query: an XML `<Note rule="R212">` or a row of an
/// explanations CSV (`uscc, period, rule, text`).
public struct Explanation: Sendable, Hashable, Codable {
    public var uscc: String
    public var period: Int
    public var rule: String
    public var text: String
    public var sourceIndex: Int32
    public var line: Int32

    public init(uscc: String, period: Int, rule: String, text: String, sourceIndex: Int32, line: Int32) {
        self.uscc = uscc
        self.period = period
        self.rule = rule
        self.text = text
        self.sourceIndex = sourceIndex
        self.line = line
    }
}
