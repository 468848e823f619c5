import Foundation
import YingtongModel
import YingtongIngest
import YingtongNormalize
import YingtongXML

/// `yingtong read FILE`: what yingtong understood from one input, as JSON Lines — the user's way to see
/// "what did it read?". Every record, every quarantined line or value, then a summary whose counts add up.
public struct Inspector {
    public let path: String
    public let role: String?
    public let form: Form?
    public let encoding: String
    public let period: Int?
    public let countyCodes: Set<String>
    /// Resource limits, as a pipeline's `limits:` would set them.
    public var limits = InputLimits()

    public init(path: String, role: String? = nil, form: Form? = nil, encoding: String = "auto", period: Int? = nil,
                countyCodes: Set<String> = [], limits: InputLimits = InputLimits()) {
        self.path = path
        self.role = role
        self.form = form
        self.encoding = encoding
        self.period = period
        self.countyCodes = countyCodes
        self.limits = limits
    }

    /// Streams the JSON lines to `emit`; returns the summary object's counts.
    @discardableResult
    public func run(emit: @escaping (String) -> Void) throws -> LineAccount {
        let formForRole: Form? = form ?? role.flatMap(Form.forRole)
        let source = SourceFile(index: 0, path: path, role: role ?? "auto", form: formForRole, encoding: encoding)
        let kind = SourceReaders.kind(path: path, declared: nil)
        if kind == .sdmx { return try sdmx(emit: emit) }
        var reader = SourceReaders.make(source, declared: nil, period: period, limits: limits)
        var sink = InspectSink(emit: emit, settings: NormalizeSettings(period: period ?? Calendar(identifier: .gregorian).component(.year, from: Date()) - 1,
                                                                        countyCodes: countyCodes,
                                                                        maxFindingsPerRecord: limits.maxFindingsPerRecord))
        var account = try reader.read(batchSize: 1024, into: &sink)
        account.moveToQuarantine(lines: sink.movedLines, records: sink.movedRecords)
        let layout = (reader as? CSVReader)?.layout ?? sink.layout
        emit(JSONValue.object([
            ("kind", .string("summary")),
            ("file", .string(path)),
            ("encoding", .string(account.encoding)),
            ("form", layout.map { .string($0.form.rawValue) } ?? .null),
            ("format", .string(kind.rawValue)),
            ("role", .string(role ?? layout.map { Self.role(of: $0.form) } ?? "unknown")),
            ("bytes", .int(Int(account.bytes))),
            ("physical_lines", .int(account.physicalLines)),
            ("record_lines", .int(account.recordLines)),
            ("quarantined_lines", .int(account.quarantinedLines)),
            ("layout_lines", .int(account.layoutLines)),
            ("records", .int(account.records)),
            ("quarantined_records", .int(account.quarantinedRecords)),
            ("quarantined_values", .int(sink.valueQuarantines)),
            ("findings", .int(sink.findings)),
            ("unknown_columns", .array((layout?.unknownColumns ?? []).map { .string($0) })),
            ("balanced", .bool(account.balanced)),
        ]).text)
        return account
    }

    /// SDMX observations are printed as the message has them (dimensions, value, attributes merged from every
    /// level); the mapping to macro fields happens in a run.
    func sdmx(emit: (String) -> Void) throws -> LineAccount {
        var options = SDMXOptions()
        options.limits = XMLLimits(maxDepth: limits.maxXMLDepth, maxTextBytes: limits.maxXMLTextBytes)
        let reader = try SDMXObservationReader(path: path, options: options)
        var records = 0
        var failure: QuarantineEntry?
        do {
            while let obs = try reader.next() {
                emit(obs.jsonLine)
                records += 1
            }
        } catch let fault as XMLFault {
            failure = QuarantineEntry(sourceIndex: 0, file: path, line: Int32(fault.line), lineEnd: Int32(fault.line),
                                      column: fault.column.map(Int32.init), raw: fault.parserMessage ?? "",
                                      code: fault.code, messageZh: fault.messageZh)
        }
        if let failure { emit(InspectSink.json(failure)) }
        var account = LineAccount()
        account.records = records
        account.quarantinedRecords = failure == nil ? 0 : 1
        account.encoding = "xml"
        emit(JSONValue.object([
            ("kind", .string("summary")), ("file", .string(path)), ("format", .string("sdmx")),
            ("records", .int(records)), ("quarantined_records", .int(account.quarantinedRecords)),
        ]).text)
        return account
    }

    static func role(of form: Form) -> String {
        switch form {
        case .activity, .projects: "enterprise_rd"
        default: form.rawValue
        }
    }
}

struct InspectSink: RecordSink {
    let emit: (String) -> Void
    let settings: NormalizeSettings
    var sequence: Int64 = 0
    var movedLines = 0
    var movedRecords = 0
    var valueQuarantines = 0
    var findings = 0
    var layout: HeaderLayout?

    init(emit: @escaping (String) -> Void, settings: NormalizeSettings) {
        self.emit = emit
        self.settings = settings
    }

    mutating func accept(_ raw: RawBatch) throws {
        if layout == nil { layout = raw.layout }
        let normalized = Normalizer(settings: settings).normalize(raw, sequenceStart: sequence)
        sequence += Int64(raw.count)
        movedLines += normalized.quarantinedRecordLines
        movedRecords += normalized.quarantinedRecords
        // Quarantine entries and records are printed in line order, as the file has them.
        var q = normalized.quarantine.makeIterator()
        var pendingQ = q.next()
        let b = normalized.records
        var v = 0
        for row in 0..<b.count {
            let prov = b.provenance[row]
            while let e = pendingQ, e.line <= prov.line {
                if !e.isRecordLevel { valueQuarantines += 1 }
                emit(Self.json(e))
                pendingQ = q.next()
            }
            var fields: [(String, JSONValue)] = []
            for c in b.columns where c.present[row] {
                if c.field.type.isNumeric {
                    fields.append((c.field.code, .number(Milli(raw: c.numbers[row]).description)))
                } else {
                    fields.append((c.field.code, c.texts[row].json))
                }
            }
            var found: [JSONValue] = []
            while v < normalized.violations.count, normalized.violations[v].line == prov.line,
                  normalized.violations[v].sourceIndex == prov.sourceIndex {
                let x = normalized.violations[v]
                found.append(.object([("rule", .string(x.rule)), ("severity", .string(x.severity.rawValue)),
                                      ("fields", .array(x.fields.map { .string($0) })), ("observed", .string(x.observed)),
                                      ("message", .string(x.messageZh))]))
                v += 1
            }
            findings += found.count
            var obj: [(String, JSONValue)] = [
                ("kind", .string("record")), ("form", .string(b.form.rawValue)),
            ]
            if b.form != .macro { obj.append(("uscc", .string(b.uscc[row]))) }
            obj += [
                ("name", b.name[row].json), ("region_code", b.regionCode[row].json),
                ("industry_code", b.industryCode[row].json), ("period", .int(b.period[row])),
                ("submitted_at", b.submittedAt[row].json), ("status", .string(b.status[row].rawValue)),
                ("fields", .object(fields)),
                ("provenance", .object([("file", .string(raw.source.path)), ("line", .int(Int(prov.line))),
                                        ("line_end", .int(Int(prov.lineEnd))),
                                        ("byte_offset", prov.byteOffset >= 0 ? .int(Int(prov.byteOffset)) : .null),
                                        ("element_path", prov.elementPath.json)])),
            ]
            if !found.isEmpty { obj.append(("findings", .array(found))) }
            emit(JSONValue.object(obj).text)
        }
        while let e = pendingQ {
            if !e.isRecordLevel { valueQuarantines += 1 }
            emit(Self.json(e))
            pendingQ = q.next()
        }
    }

    mutating func quarantine(_ entry: QuarantineEntry) throws { emit(Self.json(entry)) }

    mutating func explanation(_ explanation: Explanation) throws {
        emit(JSONValue.object([("kind", .string("explanation")), ("uscc", .string(explanation.uscc)),
                               ("period", .int(explanation.period)), ("rule", .string(explanation.rule)),
                               ("text", .string(explanation.text)), ("line", .int(Int(explanation.line)))]).text)
    }

    mutating func notice(_ messageZh: String) {
        emit(JSONValue.object([("kind", .string("notice")), ("message", .string(messageZh))]).text)
    }

    static func json(_ e: QuarantineEntry) -> String {
        JSONValue.object([
            ("kind", .string("quarantine")), ("code", .string(e.code)), ("message", .string(e.messageZh)),
            ("file", .string(e.file)), ("line", .int(Int(e.line))), ("line_end", .int(Int(e.lineEnd))),
            ("column", e.column.map { .int(Int($0)) } ?? .null),
            ("byte_offset", e.byteOffset.map { .int(Int($0)) } ?? .null),
            ("field", e.field.json), ("raw", .string(e.raw)),
        ]).text
    }
}
