import Foundation

/// A record's standing after validation (FORMATS §6 `record.status`).
public enum RecordStatus: String, Sendable, Codable {
    /// No finding above info.
    case clean
    /// A 核实性 (warning) finding without an explanation.
    case flagged
    /// A 核实性 finding that the enterprise explained.
    case explained
    /// A 强制性 (error) finding: kept in the store, excluded from indicators.
    case rejected
}

/// One field's values for every record of a batch, in the field's canonical unit.
public struct Column: Sendable {
    public let field: FieldDefinition
    /// `Milli.raw` per record for numeric fields; empty for text fields.
    public var numbers: [Int64]
    /// Text per record for text, code and date fields; empty for numeric fields.
    public var texts: [String?]
    /// Whether the record has a value (false = missing, which is not zero).
    public var present: [Bool]

    public init(field: FieldDefinition, capacity: Int) {
        self.field = field
        numbers = []
        texts = []
        present = []
        if field.type.isNumeric { numbers.reserveCapacity(capacity) } else { texts.reserveCapacity(capacity) }
        present.reserveCapacity(capacity)
    }

    public func milli(_ row: Int) -> Milli? { present[row] ? Milli(raw: numbers[row]) : nil }
    public func text(_ row: Int) -> String? { present[row] ? texts[row] : nil }

    public mutating func appendMissing() {
        if field.type.isNumeric { numbers.append(0) } else { texts.append(nil) }
        present.append(false)
    }

    public mutating func append(_ value: Milli) {
        numbers.append(value.raw)
        present.append(true)
    }

    public mutating func append(text: String) {
        texts.append(text)
        present.append(true)
    }
}

/// A block of normalized records of one form, held column by column (GUIDE.md "Data flow").
///
/// Identity (USCC, name, region, industry, period) is held in its own arrays because every stage keys on it;
/// the form's fields follow the dictionary's order so that every batch of a form has the same shape, whichever
/// columns the input file had.
public struct RecordBatch: Sendable {
    public let form: Form
    public let formVersion: String
    public var uscc: [String] = []
    public var name: [String?] = []
    public var regionCode: [String?] = []
    public var industryCode: [String?] = []
    public var period: [Int] = []
    /// Submission time as sent (ISO 8601 or the sheet's 填报时间); nil when the input had none.
    public var submittedAt: [String?] = []
    /// Order of arrival within the run, the tie-breaker for resubmissions without a time.
    public var sequence: [Int64] = []
    public var columns: [Column]
    public var provenance: [Provenance] = []
    public var status: [RecordStatus] = []
    private let columnIndex: [String: Int]

    public init(form: Form, formVersion: String, fields: [FieldDefinition], capacity: Int = 4096) {
        self.form = form
        self.formVersion = formVersion
        columns = fields.map { Column(field: $0, capacity: capacity) }
        var idx: [String: Int] = [:]
        for (i, f) in fields.enumerated() { idx[f.code] = i }
        columnIndex = idx
    }

    public var count: Int { uscc.count }
    public var isEmpty: Bool { uscc.isEmpty }

    public func columnPosition(_ code: String) -> Int? { columnIndex[code] }
    public func column(_ code: String) -> Column? { columnIndex[code].map { columns[$0] } }
}
