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

extension RecordBatch {
    /// Several batches of one form as one (small inputs, block edges).
    public static func concatenated(_ batches: [RecordBatch], form: Form, dictionary: FieldDictionary = .standard) -> RecordBatch {
        var out = RecordBatch(form: form, formVersion: batches.first?.formVersion ?? "2021", fields: dictionary.fields(of: form))
        for b in batches {
            out.uscc += b.uscc; out.name += b.name; out.regionCode += b.regionCode; out.industryCode += b.industryCode
            out.period += b.period; out.submittedAt += b.submittedAt; out.sequence += b.sequence
            out.provenance += b.provenance; out.status += b.status
            for (i, c) in b.columns.enumerated() {
                out.columns[i].numbers += c.numbers; out.columns[i].texts += c.texts; out.columns[i].present += c.present
            }
        }
        return out
    }

    /// The records at `indices`, in that order. Column by column: a row-by-row copy retained and released every
    /// column's arrays once per row and was an eighth of the rule stage.
    public func gathering(_ indices: [Int]) -> RecordBatch {
        var out = RecordBatch(form: form, formVersion: formVersion, fields: columns.map(\.field), capacity: 0)
        out.uscc = indices.map { uscc[$0] }; out.name = indices.map { name[$0] }
        out.regionCode = indices.map { regionCode[$0] }; out.industryCode = indices.map { industryCode[$0] }
        out.period = indices.map { period[$0] }; out.submittedAt = indices.map { submittedAt[$0] }
        out.sequence = indices.map { sequence[$0] }; out.provenance = indices.map { provenance[$0] }
        out.status = indices.compactMap { $0 < status.count ? status[$0] : nil }
        for k in columns.indices {
            let c = columns[k]
            if c.field.type.isNumeric { out.columns[k].numbers = indices.map { c.numbers[$0] } } else { out.columns[k].texts = indices.map { c.texts[$0] } }
            out.columns[k].present = indices.map { c.present[$0] }
        }
        return out
    }
}
