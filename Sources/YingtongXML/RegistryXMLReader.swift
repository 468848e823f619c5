import Foundation
import YingtongIngest
import YingtongModel

/// Reads a registry sent as XML (a 技术合同 export, a 高企 list…): one element per row under the root, its fields as
/// attributes or as `<Value field="…" unit="…">` children, named by field code or Chinese name, exactly like the
/// enterprise schema's values (FORMATS §3).
///
/// ```xml
/// <Registry xmlns="urn:yingtong:registry:1" kind="registry.tech_contract" period="2023">
///   <Row contract_no="2023330727000101" 合同类型="技术开发" registered_on="2023-05-18">
///     <Value field="卖方统一社会信用代码">91330727MA2847UY83</Value>
///     <Value field="合同成交额" unit="万元">120</Value>
///   </Row>
/// </Registry>
/// ```
///
/// Registries are small next to the forms, so this reader is written for clarity on top of the same safe
/// `XMLStream` (no DTD, no entities, limits), not for the enterprise reader's speed. A document that breaks
/// off keeps the rows before the break; the rest of the file is quarantined with the parser's location.
public struct RegistryXMLReader: RecordSource {
    public static let namespace = "urn:yingtong:registry:1"

    public let source: SourceFile
    public let dictionary: FieldDictionary
    public var limits: XMLLimits

    public init(source: SourceFile, dictionary: FieldDictionary = .standard, limits: XMLLimits = XMLLimits()) {
        self.source = source
        self.dictionary = dictionary
        self.limits = limits
    }

    public mutating func read(batchSize: Int, into sink: inout some RecordSink) throws -> LineAccount {
        guard let form = source.form, !form.isSubmission else {
            throw YingtongError("E-XML-ROLE", "\(source.fileName)：名单 XML 须由流水线声明其来源角色（如 registry.tech_contract）")
        }
        let stream: XMLStream
        do { stream = try XMLStream(path: source.path, encoding: nil, limits: limits) } catch {
            throw YingtongError(error.code, "\(error.messageZh)（\(source.fileName)）")
        }
        let fields = dictionary.identity + dictionary.fields(of: form)
        let bindings = fields.enumerated().map { i, f in ColumnBinding(sourceColumn: i, field: f, declaredUnit: nil, header: f.code) }
        let layout = HeaderLayout(form: form, formVersion: "2021", bindings: bindings, unknownColumns: [], headerLine: 1)
        var resolved: [String: Int?] = [:]
        func binding(_ label: String) -> Int? {
            if let hit = resolved[label] { return hit }
            let candidates = dictionary.candidates(forLabel: label, form: form)
            let field = candidates.first { $0.form == form.fieldForm || $0.isIdentity }
            let b = field.flatMap { f in fields.firstIndex { $0.code == f.code } }
            resolved[label] = b
            return b
        }
        let lines = LineCount(path: source.path)
        var account = LineAccount()
        account.physicalLines = lines.lines
        account.bytes = lines.bytes
        var batch = RawBatch(source: source, layout: layout)
        var unknown = Set<String>()
        let valueName = stream.interned("Value")

        // The row being read.
        var cells: [String?] = []
        var units: [Int: String] = [:]
        var rowStart = 0
        var rowProblem: (code: String, message: String)?
        var pendingValue: (binding: Int?, unit: String?, text: String)?
        var filePeriod: String?
        var rows = 0
        var lastRowEnd = 0

        func set(_ label: String, _ text: String, unit: String?) {
            guard let b = binding(label) else {
                if unknown.insert(label).inserted { sink.notice("\(source.fileName)：字段“\(label)”不在\(form.titleZh)的字典中，已忽略") }
                return
            }
            if cells[b] != nil {
                rowProblem = ("E-XML-DUPLICATE", "同一行中字段 \(fields[b].code)（\(fields[b].name)）出现两次，无法判断以哪个为准，该行已隔离")
            }
            cells[b] = text
            if let unit { units[b] = unit }
        }

        func endRow(line: Int) throws {
            let prov = Provenance(sourceIndex: source.index, line: Int32(rowStart), lineEnd: Int32(line), byteOffset: 0,
                                  elementPath: "/Registry/Row[\(rows)]")
            let span = line - rowStart + 1
            if let problem = rowProblem {
                try sink.quarantine(QuarantineEntry(sourceIndex: source.index, file: source.path, line: Int32(rowStart),
                                                    lineEnd: Int32(line), byteOffset: 0, elementPath: prov.elementPath,
                                                    field: nil, raw: "", code: problem.code, messageZh: problem.message))
                account.quarantinedLines += span
                account.quarantinedRecords += 1
            } else {
                if cells[fields.firstIndex { $0.code == "period" }!] == nil, let filePeriod {
                    cells[fields.firstIndex { $0.code == "period" }!] = filePeriod
                }
                for (b, u) in units { batch.cellUnits[batch.count * batch.width + b] = u }
                for c in cells { if let c { batch.appendCell(Array(c.utf8)) } else { batch.appendAbsentCell() } }
                batch.endRecord(provenance: prov, raw: [UInt8]())
                account.recordLines += span
                account.records += 1
                if batch.count >= max(1, batchSize) {
                    try sink.accept(batch)
                    batch = RawBatch(source: source, layout: layout)
                }
            }
            lastRowEnd = line
        }

        do {
            while let kind = try stream.next() {
                switch (kind, stream.depth) {
                case (.start, 1):
                    try stream.forEachAttribute { name, _, value throws(XMLFault) in
                        if String(cString: name) == "period" { filePeriod = String(cString: value) }
                    }
                case (.start, 2):
                    rows += 1
                    cells = Array(repeating: nil, count: fields.count)
                    units = [:]
                    rowProblem = nil
                    rowStart = stream.currentLine
                    var attributes: [(String, String)] = []
                    try stream.forEachAttribute { name, _, value throws(XMLFault) in
                        attributes.append((String(cString: name), String(cString: value)))
                    }
                    for (n, v) in attributes { set(n, v, unit: nil) }
                    if stream.isEmptyElement { try endRow(line: stream.currentLine) }
                case (.start, 3):
                    guard stream.localName == valueName else {
                        // <合同类型>技术开发</合同类型>: the element's own name is the field.
                        pendingValue = (binding(String(cString: stream.localName!)) == nil ? nil : -1,
                                        nil, String(cString: stream.localName!))
                        continue
                    }
                    var field: String?, unit: String?
                    try stream.forEachAttribute { name, _, value throws(XMLFault) in
                        switch String(cString: name) {
                        case "field": field = String(cString: value)
                        case "unit": unit = String(cString: value)
                        default: break
                        }
                    }
                    pendingValue = (nil, unit, field ?? "")
                    if stream.isEmptyElement { pendingValue = nil }
                case (.text, 3):   // XMLStream leaves `depth` at the enclosing element's for its text
                    guard let p = pendingValue, let v = stream.value else { continue }
                    let text = String(cString: v).trimmingCharacters(in: .whitespacesAndNewlines)
                    if p.binding == -1 { set(p.text, text, unit: nil) } else { set(p.text, text, unit: p.unit) }
                    pendingValue = nil
                case (.end, 3):
                    pendingValue = nil
                case (.end, 2):
                    try endRow(line: stream.currentLine)
                default:
                    continue
                }
            }
        } catch let fault as XMLFault {
            // Rows before the break stand; from the broken row to the end of the file is quarantined, located.
            let from = max(lastRowEnd + 1, 1)
            let span = max(0, account.physicalLines - from + 1)
            try sink.quarantine(QuarantineEntry(sourceIndex: source.index, file: source.path, line: Int32(from),
                                                lineEnd: Int32(account.physicalLines), byteOffset: 0, elementPath: nil,
                                                field: nil, raw: "", code: fault.code,
                                                messageZh: "\(fault.messageZh)（第 \(fault.line) 行）；此前的行已读取，其后内容已隔离"))
            account.quarantinedLines += span
            account.quarantinedRecords += 1
            lastRowEnd = account.physicalLines
        }
        if batch.count > 0 { try sink.accept(batch) }
        account.layoutLines = account.physicalLines - account.recordLines - account.quarantinedLines
        account.encoding = stream.documentEncoding?.lowercased() ?? "utf-8"
        return account
    }
}
