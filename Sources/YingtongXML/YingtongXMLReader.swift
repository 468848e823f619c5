import Foundation
import YingtongIngest
import YingtongModel

/// Reads a yingtong-schema XML submission (FORMATS §3, namespace `urn:yingtong:rd:1`) as a stream of records.
///
/// Each `Enterprise` becomes one 107-2 row (form `.activity`) and each of its `Project` elements one 107-1 row
/// (form `.projects`), both carrying the enterprise's identity; each `Note` becomes an `Explanation`. The rows are
/// the same `RawBatch` shape the CSV reader produces, so normalization never knows the format.
///
/// ```swift
/// var reader = YingtongXMLReader(source: SourceFile(index: 0, path: "bureau.xml", role: "bureau_rd"))
/// let account = try reader.read(batchSize: 4096, into: &sink)
/// ```
///
/// What goes to quarantine, and at which level:
/// - the same field twice in one Enterprise (or one Project): the whole Enterprise, `E-XML-DUPLICATE-FIELD`;
/// - an identity attribute that cannot key a record (USCC missing or not 18 code characters, a period that is
///   no year, a region that is not 6 digits): the whole Enterprise, `E-ID-…`; a wrong USCC check character
///   is left to rule V001 so the record is still stored;
/// - a field of another form or an ambiguous Chinese name: that value only;
/// - a document that stops being well-formed: every complete Enterprise before the fault is kept, the rest of
///   the file is one located block (`E-XML-MALFORMED`, `E-XML-ENTITY`, `E-XML-LIMIT`, `E-ENCODING`);
/// - a DOCTYPE (DTD, entities): the document, `E-XML-DTD` / `E-XML-ENTITY`.
/// A value that is merely wrong (`12a`) is passed on: normalization quarantines that value.
public struct YingtongXMLReader: RecordSource {
    public static let namespace = "urn:yingtong:rd:1"

    public let source: SourceFile
    public let dictionary: FieldDictionary
    public var limits: XMLLimits

    public init(source: SourceFile, dictionary: FieldDictionary = .standard, limits: XMLLimits = XMLLimits()) {
        self.source = source
        self.dictionary = dictionary
        self.limits = limits
    }

    public mutating func read(batchSize: Int, into sink: inout some RecordSink) throws -> LineAccount {
        let stream: XMLStream
        do {
            // The XML declaration (or BOM) names the encoding, and libxml2 follows it: a pipeline's `encoding`
            // is for CSV and is only compared below.
            stream = try XMLStream(path: source.path, encoding: nil, limits: limits)
        } catch {
            throw YingtongError(error.code, "\(error.messageZh)（\(source.fileName)）")
        }
        let engine = SchemaEngine(source: source, dictionary: dictionary, stream: stream, batchSize: max(1, batchSize))
        let account = try engine.run(into: &sink)
        let declared = source.encoding.uppercased().replacingOccurrences(of: "CP936", with: "GBK")
        if declared != "AUTO" && !declared.isEmpty && declared != account.encoding.uppercased() {
            sink.notice("管道为 \(source.fileName) 声明的编码 \(source.encoding) 与 XML 文档声明的编码 \(account.encoding) 不同：以 XML 声明为准")
        }
        return account
    }
}

/// How a `field` label maps into a layout.
private enum FieldResolution {
    case binding(Int)
    case unknown
    case ambiguous([FieldDefinition])
    case otherForm(FieldDefinition)
}

/// One value read from a `Value` element, before the Enterprise is complete.
private struct PendingCells {
    var start: [Int32]
    var end: [Int32]
    var line: [Int32]
    var units: [Int: String] = [:]

    init(width: Int) {
        start = Array(repeating: -1, count: width)
        end = Array(repeating: -1, count: width)
        line = Array(repeating: 0, count: width)
    }

    mutating func reset() {
        for i in start.indices { start[i] = -1; end[i] = -1 }
        units.removeAll(keepingCapacity: true)
    }
}

private struct PendingProject {
    var cells: PendingCells
    var line: Int
    var lineEnd: Int
    var path: String
    var rawStart: Int
    var rawEnd: Int
}

private struct Duplicate {
    let field: FieldDefinition
    let firstLine: Int32
    let secondLine: Int32
    let inProject: String?
}

/// The reading of one document: a state machine over the element stream, with the current Enterprise's cells.
private final class SchemaEngine {
    let source: SourceFile
    let dictionary: FieldDictionary
    let stream: XMLStream
    let batchSize: Int

    // Hot state is marked `@exclusivity(unchecked)`: the engine is single-threaded and never hands out overlapping
    // accesses, and the runtime's dynamic exclusivity checks were 15% of the profile.
    // Interned names (pointer comparison).
    // Hot state is marked `@exclusivity(unchecked)`: the engine is single-threaded and never hands out overlapping
    // accesses, and the runtime's dynamic exclusivity checks were 15% of the profile.
    // Interned names (pointer comparison); each stream has its own dictionary, so they follow `stream`.
    var nsYingtong: UnsafePointer<UInt8>!
    var nRDReport, nEnterprise, nValue, nProject, nNote: UnsafePointer<UInt8>!
    var aField, aUnit, aRule, aPeriod, aFormVersion: UnsafePointer<UInt8>!
    /// Enterprise attribute → identity binding (the same position in both layouts).
    var enterpriseAttributes: [(UnsafePointer<UInt8>, Int)] = []
    /// Project attribute → project-layout binding.
    var projectAttributes: [(UnsafePointer<UInt8>, Int)] = []

    var activityLayout: HeaderLayout!
    var projectLayout: HeaderLayout!
    var activityIndex: [String: Int] = [:]
    var projectIndex: [String: Int] = [:]
    var identityCount = 0
    var usccBinding = 0, periodBinding = 0, regionBinding = 0
    @exclusivity(unchecked) var activityCache: [String: FieldResolution] = [:]
    @exclusivity(unchecked) var projectCache: [String: FieldResolution] = [:]

    @exclusivity(unchecked) var activity: RawBatch!
    @exclusivity(unchecked) var projects: RawBatch!
    @exclusivity(unchecked) var account = LineAccount()

    // Document state.
    var reportPeriod: [UInt8]?
    var reportPeriodText: String?
    @exclusivity(unchecked) var enterpriseCount = 0
    @exclusivity(unchecked) var lastAccountedLine = 0
    @exclusivity(unchecked) var siblingEnterprises = 0
    var rootLine = 0
    var noticed: Set<String> = []

    // Current Enterprise.
    @exclusivity(unchecked) var inEnterprise = false
    var enterpriseLine = 0
    var enterprisePath = ""
    @exclusivity(unchecked) var arena: [UInt8] = []
    @exclusivity(unchecked) var cells: PendingCells
    @exclusivity(unchecked) var pendingProjects: [PendingProject] = []
    @exclusivity(unchecked) var currentProject: PendingProject?
    var projectSiblings = 0
    @exclusivity(unchecked) var duplicates: [Duplicate] = []
    @exclusivity(unchecked) var valueQuarantine: [QuarantineEntry] = []
    var notes: [(rule: String, text: String, line: Int)] = []
    @exclusivity(unchecked) var raw: [UInt8] = []

    // Current Value / Note.
    enum Leaf { case none, value, note, ignored }
    @exclusivity(unchecked) var leaf: Leaf = .none
    @exclusivity(unchecked) var leafDepth = 0
    @exclusivity(unchecked) var leafLine = 0
    @exclusivity(unchecked) var leafLabel: String?
    @exclusivity(unchecked) var leafUnit: String?
    @exclusivity(unchecked) var leafRule: String?
    @exclusivity(unchecked) var text: [UInt8] = []

    init(source: SourceFile, dictionary: FieldDictionary, stream: XMLStream, batchSize: Int) {
        self.source = source
        self.dictionary = dictionary
        self.stream = stream
        self.batchSize = batchSize
        cells = PendingCells(width: 0)
        intern()
    }

    func intern() {
        nsYingtong = stream.interned(YingtongXMLReader.namespace)
        nRDReport = stream.interned("RDReport")
        nEnterprise = stream.interned("Enterprise")
        nValue = stream.interned("Value")
        nProject = stream.interned("Project")
        nNote = stream.interned("Note")
        aField = stream.interned("field")
        aUnit = stream.interned("unit")
        aRule = stream.interned("rule")
        aPeriod = stream.interned("period")
        aFormVersion = stream.interned("formVersion")
        enterpriseAttributes = enterpriseAttributeNames.map { (stream.interned($0.0), $0.1) }
        projectAttributes = projectAttributeNames.map { (stream.interned($0.0), $0.1) }
    }
    var enterpriseAttributeNames: [(String, Int)] = []
    var projectAttributeNames: [(String, Int)] = []

    // MARK: Layouts

    func makeLayouts(formVersion: String, line: Int) {
        let identityCodes = ["uscc", "name", "region_code", "industry_code", "period", "submitted_at"]
        let identity = identityCodes.compactMap { dictionary.field($0) }
        identityCount = identity.count
        func layout(_ form: Form) -> HeaderLayout {
            let fields = identity + dictionary.fields(of: form)
            let bindings = fields.enumerated().map { i, f in
                ColumnBinding(sourceColumn: i, field: f, declaredUnit: nil, header: f.code)
            }
            return HeaderLayout(form: form, formVersion: formVersion, bindings: bindings, unknownColumns: [],
                                headerLine: Int32(line))
        }
        activityLayout = layout(.activity)
        projectLayout = layout(.projects)
        for (i, b) in activityLayout.bindings.enumerated() { activityIndex[b.field.code] = i }
        for (i, b) in projectLayout.bindings.enumerated() { projectIndex[b.field.code] = i }
        usccBinding = activityIndex["uscc"] ?? 0
        periodBinding = activityIndex["period"] ?? 0
        regionBinding = activityIndex["region_code"] ?? 0
        let idAttr: [(String, String)] = [
            ("uscc", "uscc"), ("name", "name"), ("region", "region_code"), ("region_code", "region_code"),
            ("regionCode", "region_code"), ("industry", "industry_code"), ("industry_code", "industry_code"),
            ("industryCode", "industry_code"), ("period", "period"), ("submittedAt", "submitted_at"),
            ("submitted_at", "submitted_at"),
        ]
        enterpriseAttributeNames = idAttr.compactMap { a, code in activityIndex[code].map { (a, $0) } }
        let projAttr: [(String, String)] = [
            ("name", "project_name"), ("project_name", "project_name"), ("source", "source"), ("mode", "mode"),
            ("resultForm", "result_form"), ("result_form", "result_form"), ("target", "target"),
            ("start", "start_ym"), ("start_ym", "start_ym"), ("end", "end_ym"), ("end_ym", "end_ym"),
            ("stage", "stage"),
        ]
        projectAttributeNames = projAttr.compactMap { a, code in projectIndex[code].map { (a, $0) } }
        intern()
        activity = RawBatch(source: source, layout: activityLayout)
        projects = RawBatch(source: source, layout: projectLayout)
        cells = PendingCells(width: activityLayout.bindings.count)
    }

    /// `field` and `unit` attribute values as written, interned by their bytes.
    @exclusivity(unchecked) var labels = ByteInterner()
    @exclusivity(unchecked) var units = ByteInterner()
    @exclusivity(unchecked) var unitTrimmed: [String] = []
    @exclusivity(unchecked) var leafLabelIndex = -1
    /// Resolutions by interned label index, per form.
    @exclusivity(unchecked) var activityByIndex: [FieldResolution?] = []
    @exclusivity(unchecked) var projectByIndex: [FieldResolution?] = []

    func resolve(_ rawLabel: String, index: Int, project: Bool) -> FieldResolution {
        guard index >= 0 else { return resolve(rawLabel, project: project) }
        if project {
            if index < projectByIndex.count, let r = projectByIndex[index] { return r }
            while projectByIndex.count <= index { projectByIndex.append(nil) }
            let r = resolve(rawLabel, project: true)
            projectByIndex[index] = r
            return r
        }
        if index < activityByIndex.count, let r = activityByIndex[index] { return r }
        while activityByIndex.count <= index { activityByIndex.append(nil) }
        let r = resolve(rawLabel, project: false)
        activityByIndex[index] = r
        return r
    }

    /// Keyed by the label as written; trimming and dictionary lookup happen once per distinct label.
    func resolve(_ rawLabel: String, project: Bool) -> FieldResolution {
        if let hit = project ? projectCache[rawLabel] : activityCache[rawLabel] { return hit }
        let r = resolveUncached(trimSpaces(rawLabel), project: project)
        if project { projectCache[rawLabel] = r } else { activityCache[rawLabel] = r }
        return r
    }

    func resolveUncached(_ label: String, project: Bool) -> FieldResolution {
        let form: Form = project ? .projects : .activity
        let index = project ? projectIndex : activityIndex
        let found = dictionary.candidates(forLabel: label, form: form)
        let inLayout = found.filter { index[$0.code] != nil }
        let r: FieldResolution
        if found.isEmpty { r = .unknown }
        else if inLayout.count == 1 { r = .binding(index[inLayout[0].code]!) }
        else if inLayout.count > 1 { r = .ambiguous(inLayout) }
        else { r = .otherForm(found[0]) }
        return r
    }

    // MARK: Run

    func run(into sink: inout some RecordSink) throws -> LineAccount {
        var fault: XMLFault?
        do {
            try loop(into: &sink)
        } catch let f as XMLFault {
            fault = f
        }
        let count = LineCount(path: source.path)
        account.physicalLines = count.lines
        account.bytes = count.bytes
        account.encoding = stream.documentEncoding ?? "UTF-8"
        var partialPath = inEnterprise ? enterprisePath : nil
        var partialRaw = inEnterprise ? String(decoding: raw, as: UTF8.self) : ""
        if let fault, fault.line > lastAccountedLine + 1, !(activityLayout == nil && fault.code == "E-XML-DTD") {
            // The Enterprise the reader was in is re-read (or stays the partial one): count it once.
            let counted = siblingEnterprises
            if inEnterprise { siblingEnterprises -= 1 }
            let recovered = try recoverBeforeFault(fault, into: &sink)
                || (windowNotApplicable && (try replayPrefix(fault, skipping: siblingEnterprises, into: &sink)))
            if recovered {
                partialPath = "/RDReport/Enterprise[\(siblingEnterprises + 1)]"
                partialRaw = ""
                inEnterprise = false
            } else {
                siblingEnterprises = counted
            }
        }
        if fault != nil && partialPath == nil && activityLayout != nil {
            partialPath = "/RDReport/Enterprise[\(siblingEnterprises + 1)]"
        }
        if activityLayout != nil {
            try flush(into: &sink, force: true)
        }
        if let fault {
            let after = inEnterprise ? max(enterpriseLine, lastAccountedLine + 1) : lastAccountedLine + 1
            // Garbage after the last complete Enterprise on its own closing line starts past the last line: the
            // entry points at that line (already counted with the record) and moves no line.
            let start = min(after, max(count.lines, 1))
            let end = max(count.lines, start)
            let where_ = fault.column.map { "第 \(fault.line) 行第 \($0) 列" } ?? "第 \(fault.line) 行"
            let kept = enterpriseCount == 0 ? "此前没有完整的企业" : "此前完整的 \(enterpriseCount) 个企业已正常读取"
            let message = "\(fault.messageZh)（出错位置：\(where_)）。自第 \(start) 行至文件末尾（第 \(end) 行）的内容整体隔离；\(kept)。"
            let original = FaultReplay.text(of: source.path, fromLine: start, encoding: account.encoding, maxBytes: 64 << 10)
            try sink.quarantine(QuarantineEntry(
                sourceIndex: source.index, file: source.fileName, line: Int32(start), lineEnd: Int32(end),
                elementPath: partialPath, raw: original ?? partialRaw,
                code: fault.code, messageZh: message))
            account.quarantinedRecords += 1
            // An empty file, or a fault after the last line (a missing end tag), quarantines no physical line:
            // counting the entry's nominal line would unbalance the account and roll the whole run back.
            account.quarantinedLines += max(0, min(end, count.lines) - after + 1)
            lastAccountedLine = end
        }
        account.layoutLines = max(0, account.physicalLines - account.recordLines - account.quarantinedLines)
        return account
    }

    /// libxml2's reader parses ahead in 512-byte chunks and, on a fault, drops the nodes it parsed but has not
    /// handed out yet: the last complete Enterprises before the fault would be lost. They are re-read from the
    /// file's bytes — from the line after the last one accounted for to the last `</Enterprise>` before the
    /// faulty line — wrapped in a root element, with line numbers shifted back to the file's. Returns whether
    /// anything was re-read. Only a small window is parsed again, which matters on a 200 MB bureau file; where
    /// the bytes cannot be cut that way (UTF-16, prefixed element names) `replayPrefix` takes over.
    private func recoverBeforeFault(_ fault: XMLFault, into sink: inout some RecordSink) throws -> Bool {
        guard !usesPrefixes, let head = FileHandle(forReadingAtPath: source.path).flatMap({ try? $0.read(upToCount: 2) }),
              head.count == 2, head[0] != 0 && head[1] != 0, !(head[0] == 0xFF && head[1] == 0xFE),
              !(head[0] == 0xFE && head[1] == 0xFF) else {
            windowNotApplicable = true
            return false
        }
        let fromByteZero = activityLayout == nil
        let fromLine = fromByteZero ? 1 : max(lastAccountedLine, rootLine) + 1
        guard fromLine < fault.line, var window = Self.lines(of: source.path, from: fromLine, to: fault.line,
                                                             maxBytes: 16 << 20) else { return false }
        let closer = Array("</Enterprise>".utf8)
        guard window.count >= closer.count,
              let cut = stride(from: window.count - closer.count, through: 0, by: -1).first(where: {
                  window[$0] == closer[0] && Array(window[$0..<$0 + closer.count]) == closer
              }) else { return false }
        window.removeSubrange((cut + closer.count)...)
        var doc: [UInt8] = []
        if !fromByteZero {
            let enc = stream.documentEncoding ?? "UTF-8"
            doc += Array("<?xml version=\"1.0\" encoding=\"\(enc)\"?><RDReport xmlns=\"\(YingtongXMLReader.namespace)\">".utf8)
        }
        doc += window
        doc += Array("\n</RDReport>\n".utf8)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-xml-tail-\(UUID().uuidString).xml")
        guard FileManager.default.createFile(atPath: tmp.path, contents: Data(doc)) else { return false }
        defer { try? FileManager.default.removeItem(at: tmp) }
        // The main reader has failed for good: the stream starts over on the window.
        do { try stream.reopen(path: tmp.path) } catch { return false }
        intern()
        stream.lineOffset = fromLine - 1
        let before = enterpriseCount + Int(account.quarantinedRecords)
        inEnterprise = false
        leaf = .none
        unknownDepth = 0
        do { try loop(into: &sink) } catch is XMLFault {}
        inEnterprise = false
        return enterpriseCount + Int(account.quarantinedRecords) > before
    }

    /// Where the window cannot be cut by bytes (UTF-16, prefixed names), the whole file up to the faulty line is
    /// read again (FaultReplay), skipping the Enterprises already handled. Costs a second parse of that prefix,
    /// which only a broken file pays.
    private func replayPrefix(_ fault: XMLFault, skipping handled: Int, into sink: inout some RecordSink) throws -> Bool {
        guard let path = FaultReplay.prefix(of: source.path, beforeLine: fault.line) else { return false }
        defer { try? FileManager.default.removeItem(atPath: path) }
        defer { replaySkip = 0 }
        do { try stream.reopen(path: path) } catch { return false }
        intern()
        let before = enterpriseCount + Int(account.quarantinedRecords)
        replaySkip = handled
        siblingEnterprises = 0
        inEnterprise = false
        leaf = .none
        unknownDepth = 0
        do { try loop(into: &sink) } catch is XMLFault {}
        siblingEnterprises = max(siblingEnterprises, handled)
        inEnterprise = false
        return enterpriseCount + Int(account.quarantinedRecords) > before
    }
    @exclusivity(unchecked) var replaySkip = 0
    @exclusivity(unchecked) var elementsInRecord = 0
    @exclusivity(unchecked) var overLimit = false
    @exclusivity(unchecked) var usesPrefixes = false
    @exclusivity(unchecked) var windowNotApplicable = false

    /// The raw bytes of lines `from` ..< `to` (1-based), or nil when they exceed `maxBytes`.
    static func lines(of path: String, from: Int, to: Int, maxBytes: Int) -> [UInt8]? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        var line = 1
        var out: [UInt8] = []
        while let chunk = try? fh.read(upToCount: 1 << 20), !chunk.isEmpty {
            for b in chunk {
                if line >= from && line < to {
                    out.append(b)
                    if out.count > maxBytes { return nil }
                }
                if b == 0x0A {
                    line += 1
                    if line >= to { return out }
                }
            }
        }
        return out
    }

    private func loop(into sink: inout some RecordSink) throws {
        var rootSeen = false
        while let kind = try stream.next() {
            if unknownDepth > 0 {
                // Inside markup we do not know: only its end matters (the parser still checks it is well-formed).
                if kind == .end && stream.depth == unknownDepth { unknownDepth = 0 }
                continue
            }
            switch kind {
            case .start:
                let name = stream.localName!
                let depth = stream.depth
                let ours = stream.namespaceURI == nil || stream.namespaceURI == nsYingtong
                if depth == 1 {
                    guard name == nRDReport, ours else {
                        throw YingtongError("E-XML-SCHEMA", "文件 \(source.fileName) 的根元素是 \(name.string)，不是 yingtong 报表格式（\(YingtongXMLReader.namespace) 的 RDReport）")
                    }
                    rootSeen = true
                    if activityLayout == nil { try startReport() }
                    rootLine = stream.nodeLine
                    continue
                }
                if leaf != .none {
                    // Markup inside a Value or Note has no meaning in the schema; its text still counts.
                    noticeOnce("child:\(name.string)", "元素 \(name.string) 出现在 Value/Note 内部，已忽略其标记")
                    continue
                }
                if !ours {
                    noticeOnce("ns:\(name.string)", "忽略其他命名空间中的元素 \(name.string)（第 \(stream.currentLine) 行）")
                    if !stream.isEmptyElement { skipSubtree() }
                    continue
                }
                if inEnterprise {
                    elementsInRecord += 1
                    if elementsInRecord > stream.limits.maxElementsPerRecord {
                        // Stop holding this record's content; it is quarantined whole when it ends.
                        overLimit = true
                        if !stream.isEmptyElement { skipSubtree() }
                        continue
                    }
                }
                if depth == 2 && name == nEnterprise {
                    siblingEnterprises += 1
                    if siblingEnterprises <= replaySkip {
                        if !stream.isEmptyElement { skipSubtree() }
                        continue
                    }
                    if stream.prefix != nil { usesPrefixes = true }
                    try startEnterprise(index: siblingEnterprises)
                    if stream.isEmptyElement { try endEnterprise(line: enterpriseLine, into: &sink) }
                } else if inEnterprise && depth == 3 && name == nValue {
                    try startLeaf(.value)
                } else if inEnterprise && depth == 3 && name == nNote {
                    try startLeaf(.note)
                } else if inEnterprise && depth == 3 && name == nProject {
                    try startProject()
                } else if currentProject != nil && depth == 4 && name == nValue {
                    try startLeaf(.value)
                } else {
                    noticeOnce("el:\(depth):\(name.string)", "忽略未知元素 \(name.string)（第 \(stream.currentLine) 行，层级 \(depth)）")
                    if !stream.isEmptyElement { skipSubtree() }
                }
            case .end:
                let name = stream.localName!
                if leaf != .none && stream.depth == leafDepth {
                    endLeaf(line: leafLine)
                } else if currentProject != nil && stream.depth == 3 && name == nProject {
                    endProject(line: stream.currentLine)
                } else if inEnterprise && stream.depth == 2 && name == nEnterprise {
                    try endEnterprise(line: stream.currentLine, into: &sink)
                }
            case .text:
                if leaf == .value || leaf == .note, let v = stream.value {
                    let n = strlen(v)
                    // Text split by comments or child markup could otherwise add up past the text limit.
                    if text.count + n > stream.limits.maxTextBytes { overLimit = true }
                    else { text.append(contentsOf: UnsafeBufferPointer(start: v, count: n)) }
                }
            case .whitespace:
                break
            }
        }
        if !rootSeen {
            throw YingtongError("E-XML-SCHEMA", "文件 \(source.fileName) 没有根元素 RDReport")
        }
    }

    /// Skips the current element's descendants (unknown markup): we still need the reader to check them.
    private func skipSubtree() {
        unknownDepth = stream.depth
    }
    @exclusivity(unchecked) private var unknownDepth = 0

    private func noticeOnce(_ key: String, _ message: String) {
        if noticed.insert(key).inserted { pendingNotices.append(message) }
    }
    @exclusivity(unchecked) private var pendingNotices: [String] = []

    // MARK: Elements

    private func startReport() throws(XMLFault) {
        var formVersion: String?
        let line = stream.currentLine
        try stream.forEachAttribute { name, ns, value throws(XMLFault) in
            guard ns == nil else { return }
            if name == aPeriod {
                let t = value.string.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty {
                    reportPeriodText = t
                    reportPeriod = Array(t.utf8)
                }
            } else if name == aFormVersion {
                formVersion = value.string
            }
        }
        if formVersion == nil, let p = reportPeriodText.flatMap(PeriodText.year), p < 2021 { formVersion = "pre2021" }
        makeLayouts(formVersion: formVersion ?? "2021", line: line)
    }

    private func startEnterprise(index: Int) throws(XMLFault) {
        inEnterprise = true
        enterpriseLine = stream.currentLine
        enterprisePath = "/RDReport/Enterprise[\(index)]"
        arena.removeAll(keepingCapacity: true)
        cells.reset()
        pendingProjects.removeAll(keepingCapacity: true)
        currentProject = nil
        projectSiblings = 0
        duplicates.removeAll()
        valueQuarantine.removeAll()
        elementsInRecord = 0
        overLimit = false
        notes.removeAll()
        raw.removeAll(keepingCapacity: true)
        raw.append(contentsOf: Tag.enterpriseOpen)
        let line = Int32(enterpriseLine)
        try stream.forEachAttribute { name, ns, value throws(XMLFault) in
            appendRawAttribute(name, value)
            guard ns == nil else { return }
            for (attr, binding) in enterpriseAttributes where attr == name {
                store(binding: binding, bytes: UnsafeBufferPointer(start: value, count: strlen(value)),
                      unit: nil, line: line, into: &cells, project: nil)
                return
            }
            noticeOnce("ea:\(name.string)", "Enterprise 的属性 \(name.string) 不属于 yingtong 格式，已忽略")
        }
        if stream.isEmptyElement {
            raw.append(contentsOf: "/>".utf8)
        } else {
            raw.append(UInt8(ascii: ">"))
        }
    }

    private func startProject() throws(XMLFault) {
        projectSiblings += 1
        var p = PendingProject(cells: PendingCells(width: projectLayout.bindings.count), line: stream.currentLine,
                               lineEnd: stream.currentLine, path: "\(enterprisePath)/Project[\(projectSiblings)]",
                               rawStart: raw.count, rawEnd: raw.count)
        raw.append(contentsOf: Tag.projectOpen)
        let line = Int32(p.line)
        let number = projectSiblings
        try stream.forEachAttribute { name, ns, value throws(XMLFault) in
            appendRawAttribute(name, value)
            guard ns == nil else { return }
            for (attr, binding) in projectAttributes where attr == name {
                store(binding: binding, bytes: UnsafeBufferPointer(start: value, count: strlen(value)),
                      unit: nil, line: line, into: &p.cells, project: number)
                return
            }
            noticeOnce("pa:\(name.string)", "Project 的属性 \(name.string) 不属于 yingtong 格式，已忽略")
        }
        if stream.isEmptyElement {
            raw.append(contentsOf: "/>".utf8)
            p.rawEnd = raw.count
            pendingProjects.append(p)
        } else {
            raw.append(UInt8(ascii: ">"))
            currentProject = p
        }
    }

    private func endProject(line: Int) {
        guard var p = currentProject else { return }
        raw.append(contentsOf: Tag.projectClose)
        p.rawEnd = raw.count
        p.lineEnd = max(line, p.line)
        pendingProjects.append(p)
        currentProject = nil
    }

    private func startLeaf(_ kind: Leaf) throws(XMLFault) {
        leaf = kind
        leafDepth = stream.depth
        leafLine = stream.currentLine
        leafLabel = nil
        leafLabelIndex = -1
        leafUnit = nil
        leafRule = nil
        text.removeAll(keepingCapacity: true)
        raw.append(contentsOf: kind == .value ? Tag.valueOpen : Tag.noteOpen)
        try stream.forEachAttribute { name, ns, value throws(XMLFault) in
            appendRawAttribute(name, value)
            guard ns == nil else { return }
            if kind == .value && name == aField {
                if let i = labels.index(of: value) { leafLabelIndex = i; leafLabel = labels.strings[i] }
                else { leafLabel = value.string }
            } else if kind == .value && name == aUnit {
                if let i = units.index(of: value) {
                    if unitTrimmed.count <= i { unitTrimmed.append(trimSpaces(units.strings[i])) }
                    leafUnit = unitTrimmed[i]
                } else {
                    leafUnit = trimSpaces(value.string)
                }
            }
            else if kind == .note && name == aRule { leafRule = value.string }
        }
        raw.append(UInt8(ascii: ">"))
        if stream.isEmptyElement { endLeaf(line: leafLine) }
    }

    private func endLeaf(line: Int) {
        let kind = leaf
        leaf = .none
        text.withUnsafeBufferPointer { appendEscaped($0, attribute: false) }
        raw.append(contentsOf: kind == .value ? Tag.valueClose : Tag.noteClose)
        let trimmed = trim(text)
        if kind == .note {
            let t = String(decoding: text[trimmed], as: UTF8.self)
            if let rule = leafRule.map(trimSpaces), !rule.isEmpty {
                notes.append((rule, t, leafLine))
            } else {
                noticeOnce("note-rule", "Note 缺少 rule 属性，说明无法对应到审核规则，已忽略（首次见于第 \(leafLine) 行）")
            }
            return
        }
        guard let label = leafLabel, !label.isEmpty else {
            valueQuarantine.append(valueEntry(field: nil, code: "E-XML-FIELD-MISSING",
                                              message: "Value 元素缺少 field 属性，无法确定是哪个指标"))
            return
        }
        let inProject = currentProject != nil
        let fast = leafLabelIndex >= 0 ? fastBinding(label, index: leafLabelIndex, project: inProject) : -1
        if fast >= 0 {
            storeLeaf(binding: fast, trimmed: trimmed, inProject: inProject)
            return
        }
        switch resolve(label, index: leafLabelIndex, project: inProject) {
        case .binding(let b):
            storeLeaf(binding: b, trimmed: trimmed, inProject: inProject)
        case .unknown:
            noticeOnce("field:\(label)", "未知字段 \(label)（首次见于第 \(leafLine) 行）已忽略；原文保留在记录的原始文本中")
        case .ambiguous(let fields):
            let list = fields.map { "\($0.code)（\($0.name)）" }.joined(separator: "、")
            valueQuarantine.append(valueEntry(field: label, code: "E-XML-FIELD-AMBIGUOUS",
                                              message: "字段名 \(label) 可指多个字段：\(list)，请改用字段代码"))
        case .otherForm(let f):
            let here = inProject ? "Project（107-1）" : "Enterprise（107-2）"
            valueQuarantine.append(valueEntry(field: label, code: "E-XML-FIELD-FORM",
                                              message: "字段 \(f.code)（\(f.name)）属于 \(f.form?.rawValue ?? "身份") 表，不能写在 \(here) 下"))
        }
    }

    private func storeLeaf(binding b: Int, trimmed: Range<Int>, inProject: Bool) {
        let unit = leafUnit
        let line = Int32(leafLine)
        text.withUnsafeBufferPointer { buf in
            let slice = UnsafeBufferPointer(rebasing: buf[trimmed])
            if inProject {
                store(binding: b, bytes: slice, unit: unit, line: line, into: &currentProject!.cells, project: projectSiblings)
            } else {
                store(binding: b, bytes: slice, unit: unit, line: line, into: &cells, project: nil)
            }
        }
    }

    /// Binding per interned label, as a plain integer: -2 not looked up yet, -1 not a binding (slow path).
    /// Copying `FieldResolution` values (their payloads are reference-counted) showed in the profile.
    @exclusivity(unchecked) var activityFast: [Int32] = []
    @exclusivity(unchecked) var projectFast: [Int32] = []

    private func fastBinding(_ label: String, index: Int, project: Bool) -> Int {
        if project {
            if index < projectFast.count, projectFast[index] != -2 { return Int(projectFast[index]) }
            while projectFast.count <= index { projectFast.append(-2) }
        } else {
            if index < activityFast.count, activityFast[index] != -2 { return Int(activityFast[index]) }
            while activityFast.count <= index { activityFast.append(-2) }
        }
        var b: Int32 = -1
        if case .binding(let found) = resolve(label, index: index, project: project) { b = Int32(found) }
        if project { projectFast[index] = b } else { activityFast[index] = b }
        return Int(b)
    }

    private func valueEntry(field: String?, code: String, message: String) -> QuarantineEntry {
        let path = currentProject.map { "\($0.path)/Value" } ?? "\(enterprisePath)/Value"
        return QuarantineEntry(sourceIndex: source.index, file: source.fileName, line: Int32(leafLine),
                               lineEnd: Int32(leafLine), elementPath: path, field: field,
                               raw: String(decoding: text, as: UTF8.self), code: code, messageZh: message)
    }

    /// `project` is the Project's number within the Enterprise, nil for a 107-2 value.
    private func store(binding: Int, bytes: UnsafeBufferPointer<UInt8>, unit: String?, line: Int32,
                       into c: inout PendingCells, project: Int?) {
        if c.start[binding] >= 0 {
            let layout = project == nil ? activityLayout! : projectLayout!
            duplicates.append(Duplicate(field: layout.bindings[binding].field, firstLine: c.line[binding],
                                        secondLine: line, inProject: project.map { "\(enterprisePath)/Project[\($0)]" }))
            return
        }
        c.start[binding] = Int32(arena.count)
        arena.append(contentsOf: bytes)
        c.end[binding] = Int32(arena.count)
        c.line[binding] = line
        if let unit, !unit.isEmpty { c.units[binding] = unit }
    }

    private func endEnterprise(line: Int, into sink: inout some RecordSink) throws {
        inEnterprise = false
        raw.append(contentsOf: Tag.enterpriseClose)
        let start = max(enterpriseLine, lastAccountedLine + 1)
        let end = max(line, start)
        lastAccountedLine = end
        // The report's period stands in for an Enterprise without one.
        if cells.start[periodBinding] < 0, let p = reportPeriod {
            cells.start[periodBinding] = Int32(arena.count)
            arena.append(contentsOf: p)
            cells.end[periodBinding] = Int32(arena.count)
        }
        for n in pendingNotices { sink.notice(n) }
        pendingNotices.removeAll()
        if let problem = rejection() {
            let rawText = String(decoding: raw, as: UTF8.self)
            try sink.quarantine(QuarantineEntry(
                sourceIndex: source.index, file: source.fileName, line: Int32(start), lineEnd: Int32(end),
                elementPath: enterprisePath, raw: rawText, code: problem.code, messageZh: problem.message))
            account.quarantinedRecords += 1
            account.quarantinedLines += end - start + 1
            return
        }

        enterpriseCount += 1
        account.records += 1
        account.recordLines += end - start + 1
        let width = activityLayout.bindings.count
        let rowIndex = activity.count
        for (b, u) in cells.units { activity.cellUnits[rowIndex * width + b] = u }
        arena.withUnsafeBufferPointer { a in
            for b in 0..<width {
                if cells.start[b] >= 0 {
                    activity.appendBytes(UnsafeBufferPointer(rebasing: a[Int(cells.start[b])..<Int(cells.end[b])]))
                } else {
                    activity.appendMissing()
                }
            }
        }
        activity.finishRecord(provenance: Provenance(sourceIndex: source.index, line: Int32(start), lineEnd: Int32(end),
                                                  byteOffset: -1, elementPath: enterprisePath), raw: raw[...])

        let pw = projectLayout.bindings.count
        for p in pendingProjects {
            let r = projects.count
            for (b, u) in p.cells.units { projects.cellUnits[r * pw + b] = u }
            arena.withUnsafeBufferPointer { a in
                for b in 0..<pw {
                    // Identity comes from the Enterprise, the rest from the Project.
                    let (s, e) = b < identityCount ? (cells.start[b], cells.end[b]) : (p.cells.start[b], p.cells.end[b])
                    if s >= 0 { projects.appendBytes(UnsafeBufferPointer(rebasing: a[Int(s)..<Int(e)])) }
                    else { projects.appendMissing() }
                }
            }
            projects.finishRecord(provenance: Provenance(sourceIndex: source.index, line: Int32(p.line),
                                                      lineEnd: Int32(p.lineEnd), byteOffset: -1, elementPath: p.path),
                               raw: raw[p.rawStart..<p.rawEnd])
        }
        for q in valueQuarantine { try sink.quarantine(q) }
        if !notes.isEmpty {
            let uscc = USCC.normalize(cellString(usccBinding) ?? "")
            let period = cellString(periodBinding).flatMap(PeriodText.year) ?? 0
            for n in notes {
                try sink.explanation(Explanation(uscc: uscc, period: period, rule: n.rule, text: n.text,
                                                 sourceIndex: source.index, line: Int32(n.line)))
            }
        }
        try flush(into: &sink, force: false)
    }

    private func cellString(_ b: Int) -> String? {
        guard cells.start[b] >= 0 else { return nil }
        return String(decoding: arena[Int(cells.start[b])..<Int(cells.end[b])], as: UTF8.self)
    }

    /// `2023`: the common case, without PeriodText's full-width and suffix handling.
    static func isPlainYear(_ s: String) -> Bool {
        guard s.utf8.count == 4, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let y = Int(s) else { return false }
        return (1990...2100).contains(y)
    }

    /// Why the current Enterprise cannot become a record, if it cannot.
    private func rejection() -> (code: String, message: String)? {
        if overLimit {
            return ("E-XML-LIMIT", "企业包含的元素超过上限 \(stream.limits.maxElementsPerRecord) 个（Value/Project/Note），超出部分未读取，整个企业隔离")
        }
        if let d = duplicates.first {
            let more = duplicates.count > 1 ? "（另有 \(duplicates.count - 1) 处重复）" : ""
            let whereZh = d.inProject.map { "项目 \($0) 中" } ?? "企业中"
            return ("E-XML-DUPLICATE-FIELD",
                    "同一\(whereZh)字段 \(d.field.code)（\(d.field.name)）出现两次（第 \(d.firstLine) 行与第 \(d.secondLine) 行），无法确定应取哪个值，整个企业隔离\(more)")
        }
        let usccRaw = trimSpaces(cellString(usccBinding) ?? "")
        if usccRaw.isEmpty || NumberText.isPlaceholder(usccRaw) {
            return ("E-ID-USCC-MISSING", "企业缺少统一社会信用代码（uscc 属性），无法确定是哪家企业，整个企业隔离")
        }
        // The common case — 18 plain code characters — skips normalization and the regular expression.
        let plain = usccRaw.utf8.count == 18 && usccRaw.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }
        let uscc = plain ? usccRaw : USCC.normalize(usccRaw)
        if !plain, let p = USCC.problem(uscc), p == .length || p == .charset {
            if usccRaw.range(of: #"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$"#, options: .regularExpression) != nil {
                return ("E-ID-USCC-EXCEL", "统一社会信用代码 \(usccRaw) 是科学计数法，原值已被表格软件破坏，整个企业隔离")
            }
            return ("E-ID-USCC", "统一社会信用代码 \(usccRaw) \(p.rawValue)，无法作为企业标识，整个企业隔离")
        }
        guard let periodText = cellString(periodBinding), !trimSpaces(periodText).isEmpty else {
            return ("E-ID-PERIOD-MISSING", "企业 \(uscc) 没有报告期（Enterprise 与 RDReport 均无 period 属性），整个企业隔离")
        }
        if !Self.isPlainYear(periodText) && PeriodText.year(periodText) == nil {
            return ("E-ID-PERIOD", "企业 \(uscc) 的报告期 \(periodText) 不是有效年份，整个企业隔离")
        }
        if let region = cellString(regionBinding) {
            let plainRegion = region.utf8.count == 6 && region.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            let r = plainRegion ? region : trimSpaces(HeaderText.halfWidth(region))
            if !r.isEmpty && !RegionCode.isWellFormed(r) {
                return ("E-ID-REGION", "企业 \(uscc) 的行政区划代码 \(region) 不是6位有效代码，整个企业隔离")
            }
        }
        return nil
    }

    static let byteBudget = 32 << 20

    private func flush(into sink: inout some RecordSink, force: Bool) throws {
        for n in pendingNotices { sink.notice(n) }
        pendingNotices.removeAll()
        // A byte budget too: a few enterprises with huge notes must not hold memory hostage to the record count.
        if activity.count >= batchSize || activity.byteSize > Self.byteBudget || (force && activity.count > 0) {
            try sink.accept(activity)
            activity = RawBatch(source: source, layout: activityLayout)
        }
        if projects.count >= batchSize || projects.byteSize > Self.byteBudget || (force && projects.count > 0) {
            try sink.accept(projects)
            projects = RawBatch(source: source, layout: projectLayout)
        }
    }

    // MARK: Raw text

    /// The reconstructed text of one record stops growing here; a record that large is quarantined anyway.
    static let rawCap = 16 << 20

    private func appendRawAttribute(_ name: UnsafePointer<UInt8>, _ value: UnsafePointer<UInt8>) {
        if raw.count > Self.rawCap { overLimit = true; return }
        raw.append(UInt8(ascii: " "))
        raw.append(contentsOf: UnsafeBufferPointer(start: name, count: strlen(name)))
        raw.append(0x3D)  // =
        raw.append(0x22)  // "
        appendEscaped(UnsafeBufferPointer(start: value, count: strlen(value)), attribute: true)
        raw.append(UInt8(ascii: "\""))
    }

    private func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, attribute: Bool) {
        if raw.count > Self.rawCap { overLimit = true; return }
        // Nearly every value has nothing to escape: append it whole.
        if !bytes.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 }) {
            raw.append(contentsOf: bytes)
            return
        }
        for c in bytes {
            switch c {
            case UInt8(ascii: "&"): raw.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): raw.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): raw.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\"") where attribute: raw.append(contentsOf: "&quot;".utf8)
            default: raw.append(c)
            }
        }
    }

    private func trim(_ b: [UInt8]) -> Range<Int> {
        var s = 0, e = b.count
        while s < e, b[s] == 0x20 || b[s] == 0x09 || b[s] == 0x0A || b[s] == 0x0D { s += 1 }
        while e > s, b[e - 1] == 0x20 || b[e - 1] == 0x09 || b[e - 1] == 0x0A || b[e - 1] == 0x0D { e -= 1 }
        return s..<e
    }
}

/// Foundation's trimming goes through NSString and dominated the profile; almost every label, unit and code
/// has nothing to trim, which the first and last byte tell.
@inline(__always)
func trimSpaces(_ s: String) -> String {
    let u = s.utf8
    guard let f = u.first, let l = u.last else { return s }
    if (0x21...0x7E).contains(f) && (0x21...0x7E).contains(l) { return s }
    if f >= 0xE4 && f <= 0xE9 && l >= 0x80 && (0x21...0x7E).contains(l) == false {
        // CJK ideographs start with E4–E9; a trailing byte ≥ 0x80 is the end of a multi-byte character.
        let scalars = s.unicodeScalars
        if let last = scalars.last, !last.properties.isWhitespace { return s }
    }
    return s.trimmingCharacters(in: .whitespaces)
}

extension RawBatch {
    // RawBatch's own appenders are generic and live in another module, so they run unspecialized (generic
    // metadata, witness tables: a tenth of the profile). These do the same on the public storage, specialized here.
    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        cellStart.append(Int32(arena.count))
        arena.append(contentsOf: bytes)
        cellEnd.append(Int32(arena.count))
    }

    @inline(__always)
    mutating func appendMissing() {
        cellStart.append(-1)
        cellEnd.append(-1)
    }

    mutating func finishRecord(provenance: Provenance, raw: ArraySlice<UInt8>) {
        rawStart.append(Int32(arena.count))
        arena.append(contentsOf: raw)
        rawEnd.append(Int32(arena.count))
        self.provenance.append(provenance)
    }
}

/// The markup of the reconstructed raw text, as bytes once (a literal's `.utf8` is re-walked on every append).
private enum Tag {
    static let enterpriseOpen = Array("<Enterprise".utf8), enterpriseClose = Array("</Enterprise>".utf8)
    static let projectOpen = Array("<Project".utf8), projectClose = Array("</Project>".utf8)
    static let valueOpen = Array("<Value".utf8), valueClose = Array("</Value>".utf8)
    static let noteOpen = Array("<Note".utf8), noteClose = Array("</Note>".utf8)
}
