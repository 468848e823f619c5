import Foundation
import YingtongModel

/// Key–value pairs that keep the order they were read in (a series key, then the observation's own dimension).
public struct SDMXKeyValues: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String] = []
    public private(set) var values: [String] = []

    public init() {}
    public init(dictionaryLiteral elements: (String, String)...) {
        for (k, v) in elements { self[k] = v }
    }

    public subscript(key: String) -> String? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    /// The same pairs without their order, for comparisons across layouts.
    public var dictionary: [String: String] { Dictionary(uniqueKeysWithValues: zip(keys, values)) }

    public func makeIterator() -> Zip2Sequence<[String], [String]>.Iterator { zip(keys, values).makeIterator() }
}

/// One SDMX observation with everything that applies to it: all dimension values, `OBS_VALUE`, and the
/// attributes of its dataset, groups, series and itself merged (the lower level wins).
public struct SDMXObservation: Sendable, Hashable {
    public var dimensions: SDMXKeyValues
    public var value: String?
    public var attributes: [String: String]
    /// First and last line of the observation's element.
    public var line: Int
    public var lineEnd: Int
    /// `/GenericData/DataSet[1]/Series[3]/Obs[2]` (local names: prefixes vary from sender to sender).
    public var elementPath: String
    /// 1-based position of the observation's dataset in the message.
    public var dataSet: Int
}

/// A `Footer/Message` of an SDMX message: the sender's code, severity and texts.
public struct SDMXFooterMessage: Sendable, Hashable {
    public var code: String
    public var severity: String?
    public var texts: [String]
    public var line: Int
}

/// What the reader needs to know that an SDMX message does not say without its DSD.
public struct SDMXOptions: Sendable {
    public var limits = XMLLimits()
    /// In StructureSpecificData a series or group carries dimensions and attributes side by side as XML
    /// attributes, and only the DSD tells them apart. yingtong does not fetch DSDs (no network), so these ids —
    /// the SDMX cross-domain attribute concepts and yingtong's own — are taken as attributes, everything else as
    /// a dimension. GenericData says which is which and needs none of this.
    public var attributeIDs: Set<String> = [
        "UNIT_MULT", "UNIT_MEASURE", "OBS_STATUS", "OBS_CONF", "OBS_PRE_BREAK", "OBS_COM", "DECIMALS", "TITLE",
        "TITLE_COMPL", "COMMENT", "TIME_FORMAT", "TIME_PER_COLLECT", "COLLECTION", "BASE_PER", "SOURCE_AGENCY",
        "COMPILING_ORG", "DATA_COMP", "EMBARGO_TIME", "UNIT_INDEX_BASE", "CONF_STATUS", "REF_PERIOD_DETAIL",
        "NOTE", "NOTES", "SOURCE", "UNIT",
    ]

    /// Groups are held for the whole dataset and matched against every observation: a bound keeps a hostile
    /// message from turning that into unbounded memory and quadratic time.
    public var maxGroups = 10_000

    public init() {}
}

/// Reads every observation of an SDMX-ML 2.1 data message as a stream (FORMATS §4).
///
/// Generic and structure-specific messages and their time-series variants are read; namespaces are matched by
/// URI, whatever their prefix; any `dimensionAtObservation` works (`TIME_PERIOD`, another dimension,
/// `AllDimensions`); groups, several datasets and attributes at every level are merged down. A message with only
/// a footer is an error carrying the footer's code and text.
///
/// ```swift
/// let reader = try SDMXObservationReader(path: "macro.xml")
/// while let obs = try reader.next() { print(obs.dimensions["REF_AREA"]!, obs.value ?? "—") }
/// ```
///
/// `next()` throws `XMLFault` when the document stops being well-formed (or is hostile), and `YingtongError`
/// for a message that is not SDMX data or holds no dataset.
public final class SDMXObservationReader {
    public static let messageNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
    public static let genericNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic"
    public static let footerNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message/footer"
    public static let commonNS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"

    let stream: XMLStream
    let options: SDMXOptions
    let fileName: String
    public private(set) var footer: [SDMXFooterMessage] = []
    public private(set) var dataSetCount = 0
    public private(set) var observationCount = 0
    private var finished = false

    // Interned names.
    private let nsMessage, nsGeneric, nsFooter: UnsafePointer<UInt8>
    private let nDataSet, nSeries, nGroup, nObs, nValue, nSeriesKey, nGroupKey, nObsKey, nAttributes,
        nObsDimension, nObsValue, nHeader, nStructure, nFooter, nMessage, nText: UnsafePointer<UInt8>
    private let aId, aValue, aStructureID, aDimAtObs, aStructureRef, aCode, aSeverity, aObsValue: UnsafePointer<UInt8>

    private var isGeneric = false
    private var rootName = ""
    private var stack: [UnsafePointer<UInt8>] = []
    private var structures: [String: String] = [:]

    // Dataset state.
    private var dimAtObs = "TIME_PERIOD"
    private var dsAttrs: [String: String] = [:]
    private var groups: [(key: SDMXKeyValues, attrs: [String: String])] = []
    private var group: (key: SDMXKeyValues, attrs: [String: String])?
    private var inSeries = false
    private var seriesDims = SDMXKeyValues()
    private var seriesAttrs: [String: String] = [:]
    private var seriesCount = 0
    private var obsInParent = 0
    private var obs: SDMXObservation?
    private var footerMessage: SDMXFooterMessage?
    private var text: [UInt8] = []
    private var collectingText = false

    private static let reservedDataSetAttributes: Set<String> = [
        "structureRef", "dataScope", "action", "setID", "reportingBeginDate", "reportingEndDate", "validFromDate",
        "validToDate", "publicationYear", "publicationPeriod", "type",
    ]

    public init(path: String, options: SDMXOptions = SDMXOptions()) throws {
        do {
            stream = try XMLStream(path: path, encoding: nil, limits: options.limits)
        } catch {
            throw YingtongError(error.code, "\(error.messageZh)")
        }
        self.options = options
        fileName = (path as NSString).lastPathComponent
        nsMessage = stream.interned(Self.messageNS)
        nsGeneric = stream.interned(Self.genericNS)
        nsFooter = stream.interned(Self.footerNS)
        nDataSet = stream.interned("DataSet"); nSeries = stream.interned("Series"); nGroup = stream.interned("Group")
        nObs = stream.interned("Obs"); nValue = stream.interned("Value"); nSeriesKey = stream.interned("SeriesKey")
        nGroupKey = stream.interned("GroupKey"); nObsKey = stream.interned("ObsKey")
        nAttributes = stream.interned("Attributes"); nObsDimension = stream.interned("ObsDimension")
        nObsValue = stream.interned("ObsValue"); nHeader = stream.interned("Header")
        nStructure = stream.interned("Structure"); nFooter = stream.interned("Footer")
        nMessage = stream.interned("Message"); nText = stream.interned("Text")
        aId = stream.interned("id"); aValue = stream.interned("value"); aStructureID = stream.interned("structureID")
        aDimAtObs = stream.interned("dimensionAtObservation"); aStructureRef = stream.interned("structureRef")
        aCode = stream.interned("code"); aSeverity = stream.interned("severity"); aObsValue = stream.interned("OBS_VALUE")
    }

    /// The number of lines libxml2 has read so far (the document's line count once `next()` returned nil).
    public var parserLine: Int { stream.parserLine }

    /// The next observation, or nil at the end of the message.
    public func next() throws -> SDMXObservation? {
        if finished { return nil }
        while let kind = try stream.next() {
            switch kind {
            case .start:
                let name = stream.localName!
                let empty = stream.isEmptyElement
                if let ready = try start(name) { if !empty { stack.append(name) }; return ready }
                if !empty { stack.append(name) }
            case .end:
                if !stack.isEmpty { stack.removeLast() }
                if let ready = try end(stream.localName!) { return ready }
            case .text:
                if collectingText, let v = stream.value { text.append(contentsOf: UnsafeBufferPointer(start: v, count: strlen(v))) }
            case .whitespace:
                break
            }
        }
        finished = true
        if dataSetCount == 0 {
            if !footer.isEmpty {
                let parts = footer.map { m in
                    "代码 \(m.code)\(m.severity.map { "（\($0)）" } ?? "")：\(m.texts.joined(separator: "；"))"
                }
                throw YingtongError("E-SDMX-FOOTER",
                                    "SDMX 消息 \(fileName) 不含数据集，只有页脚消息（第 \(footer[0].line) 行）：\(parts.joined(separator: " | "))")
            }
            throw YingtongError("E-SDMX-NO-DATASET", "SDMX 消息 \(fileName) 不含任何数据集（DataSet）")
        }
        return nil
    }

    private var parent: UnsafePointer<UInt8>? { stack.last }
    private var grandparent: UnsafePointer<UInt8>? { stack.count >= 2 ? stack[stack.count - 2] : nil }

    private func attributes() throws(XMLFault) -> [(name: String, ns: Bool, value: String)] {
        var out: [(String, Bool, String)] = []
        try stream.forEachAttribute { n, ns, v throws(XMLFault) in out.append((n.string, ns != nil, v.string)) }
        return out
    }

    private func attribute(_ wanted: UnsafePointer<UInt8>) throws(XMLFault) -> String? {
        var found: String?
        try stream.forEachAttribute { n, _, v throws(XMLFault) in if n == wanted { found = v.string } }
        return found
    }

    private func start(_ name: UnsafePointer<UInt8>) throws -> SDMXObservation? {
        let ns = stream.namespaceURI
        let depth = stream.depth
        if depth == 1 {
            rootName = name.string
            guard ns == nsMessage, ["GenericData", "GenericTimeSeriesData", "StructureSpecificData",
                                    "StructureSpecificTimeSeriesData"].contains(rootName) else {
                throw YingtongError("E-SDMX-ROOT", "文件 \(fileName) 不是 SDMX-ML 2.1 数据消息（根元素 \(rootName)）")
            }
            isGeneric = rootName.hasPrefix("Generic")
            return nil
        }
        if ns == nsMessage && depth == 3 && name == nStructure && parent == nHeader {
            var id: String?, dim: String?
            try stream.forEachAttribute { n, _, v throws(XMLFault) in
                if n == aStructureID { id = v.string } else if n == aDimAtObs { dim = v.string }
            }
            structures[id ?? ""] = dim ?? "TIME_PERIOD"
            return nil
        }
        if ns == nsMessage && depth == 2 && name == nDataSet {
            beginDataSet()
            var ref: String?
            for a in try attributes() {
                if a.name == "structureRef" { ref = a.value }
                else if !isGeneric && !a.ns && !Self.reservedDataSetAttributes.contains(a.name) { dsAttrs[a.name] = a.value }
            }
            dimAtObs = ref.flatMap { structures[$0] } ?? (structures.count == 1 ? structures.values.first! : "TIME_PERIOD")
            if rootName.hasSuffix("TimeSeriesData") { dimAtObs = "TIME_PERIOD" }
            return nil
        }
        if ns == nsMessage && depth == 2 && name == nFooter { return nil }
        if ns == nsFooter && name == nMessage {
            var code = "", severity: String?
            try stream.forEachAttribute { n, _, v throws(XMLFault) in
                if n == aCode { code = v.string } else if n == aSeverity { severity = v.string }
            }
            footerMessage = SDMXFooterMessage(code: code, severity: severity, texts: [], line: stream.currentLine)
            return nil
        }
        if footerMessage != nil && name == nText {
            collectingText = true
            text.removeAll(keepingCapacity: true)
            if stream.isEmptyElement { endText() }
            return nil
        }
        guard dataSetCount > 0, stack.contains(where: { $0 == nDataSet }) else { return nil }
        return isGeneric ? try genericStart(name, ns: ns) : try structureSpecificStart(name, ns: ns)
    }

    private func beginDataSet() {
        dataSetCount += 1
        dsAttrs = [:]
        groups = []
        group = nil
        inSeries = false
        seriesCount = 0
        obsInParent = 0
    }

    private func newObservation(dims: SDMXKeyValues) -> SDMXObservation {
        obsInParent += 1
        let path = "/\(rootName)/DataSet[\(dataSetCount)]" + (inSeries ? "/Series[\(seriesCount)]" : "") + "/Obs[\(obsInParent)]"
        return SDMXObservation(dimensions: dims, value: nil, attributes: [:], line: stream.currentLine,
                               lineEnd: stream.currentLine, elementPath: path, dataSet: dataSetCount)
    }

    // MARK: GenericData

    private func genericStart(_ name: UnsafePointer<UInt8>, ns: UnsafePointer<UInt8>?) throws -> SDMXObservation? {
        guard ns == nsGeneric else { return nil }
        if name == nSeries {
            inSeries = true
            seriesCount += 1
            obsInParent = 0
            seriesDims = SDMXKeyValues()
            seriesAttrs = [:]
        } else if name == nGroup {
            group = (SDMXKeyValues(), [:])
            if stream.isEmptyElement { try endGroup() }
        } else if name == nObs {
            obs = newObservation(dims: inSeries ? seriesDims : SDMXKeyValues())
            if stream.isEmptyElement { return finishObservation() }
        } else if name == nValue {
            var id: String?, value: String?
            try stream.forEachAttribute { n, _, v throws(XMLFault) in
                if n == aId { id = v.string } else if n == aValue { value = v.string }
            }
            guard let id, let value else { return nil }
            let p = parent
            if p == nSeriesKey { seriesDims[id] = value }
            else if p == nGroupKey { group?.key[id] = value }
            else if p == nObsKey { obs?.dimensions[id] = value }
            else if p == nAttributes {
                let owner = grandparent
                if owner == nObs { obs?.attributes[id] = value }
                else if owner == nSeries { seriesAttrs[id] = value }
                else if owner == nGroup { group?.attrs[id] = value }
                else if owner == nDataSet { dsAttrs[id] = value }
            }
        } else if name == nObsDimension {
            var id: String?, value: String?
            try stream.forEachAttribute { n, _, v throws(XMLFault) in
                if n == aId { id = v.string } else if n == aValue { value = v.string }
            }
            if let value { obs?.dimensions[id ?? dimAtObs] = value }
        } else if name == nObsValue {
            obs?.value = try attribute(aValue)
        }
        return nil
    }

    // MARK: StructureSpecificData

    private func structureSpecificStart(_ name: UnsafePointer<UInt8>, ns: UnsafePointer<UInt8>?) throws -> SDMXObservation? {
        guard ns != nsMessage, ns != nsGeneric, ns != nsFooter else { return nil }
        if name == nSeries {
            inSeries = true
            seriesCount += 1
            obsInParent = 0
            seriesDims = SDMXKeyValues()
            seriesAttrs = [:]
            for a in try attributes() where !a.ns {
                if options.attributeIDs.contains(a.name) { seriesAttrs[a.name] = a.value } else { seriesDims[a.name] = a.value }
            }
        } else if name == nGroup {
            var g = (key: SDMXKeyValues(), attrs: [String: String]())
            for a in try attributes() where !a.ns && a.name != "type" {
                if options.attributeIDs.contains(a.name) { g.attrs[a.name] = a.value } else { g.key[a.name] = a.value }
            }
            try appendGroup(g)
        } else if name == nObs {
            var o = newObservation(dims: inSeries ? seriesDims : SDMXKeyValues())
            let all = dimAtObs == "AllDimensions"
            for a in try attributes() where !a.ns {
                if a.name == "OBS_VALUE" { o.value = a.value }
                else if all ? !options.attributeIDs.contains(a.name) : a.name == dimAtObs { o.dimensions[a.name] = a.value }
                else { o.attributes[a.name] = a.value }
            }
            obs = o
            if stream.isEmptyElement { return finishObservation() }
        }
        return nil
    }

    // MARK: Ends

    private func end(_ name: UnsafePointer<UInt8>) throws(XMLFault) -> SDMXObservation? {
        if collectingText && name == nText { endText(); return nil }
        if name == nMessage, let m = footerMessage, stream.namespaceURI == nsFooter {
            footer.append(m)
            footerMessage = nil
            return nil
        }
        if name == nObs, obs != nil {
            obs?.lineEnd = stream.currentLine
            return finishObservation()
        }
        if name == nGroup && isGeneric { try endGroup() }
        if name == nSeries { inSeries = false; obsInParent = 0 }
        if name == nDataSet && stream.namespaceURI == nsMessage { inSeries = false; group = nil }
        return nil
    }

    private func endText() {
        collectingText = false
        let t = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !t.isEmpty { footerMessage?.texts.append(t) }
    }

    private func endGroup() throws(XMLFault) {
        if let g = group { try appendGroup(g) }
        group = nil
    }

    private func appendGroup(_ g: (key: SDMXKeyValues, attrs: [String: String])) throws(XMLFault) {
        guard groups.count < options.maxGroups else {
            throw XMLFault(code: "E-XML-LIMIT", line: stream.currentLine, column: nil,
                           messageZh: "数据集中的组（Group）超过上限 \(options.maxGroups) 个，其余内容被拒绝", parserMessage: nil)
        }
        groups.append(g)
    }

    /// Merges attributes down (dataset < group < series < observation) and hands the observation out.
    private func finishObservation() -> SDMXObservation? {
        guard var o = obs else { return nil }
        obs = nil
        var merged = dsAttrs
        for g in groups where g.key.allSatisfy({ k, v in o.dimensions[k] == v }) {
            merged.merge(g.attrs) { _, new in new }
        }
        if inSeries { merged.merge(seriesAttrs) { _, new in new } }
        merged.merge(o.attributes) { _, new in new }
        o.attributes = merged
        if o.lineEnd < o.line { o.lineEnd = o.line }
        observationCount += 1
        return o
    }
}

extension SDMXObservation {
    /// The observation as one JSON line for `yingtong read`: dimensions in document order, attributes sorted.
    ///
    /// ```
    /// {"kind":"record","dimensions":{"REF_AREA":"330122","INDICATOR":"GDP","TIME_PERIOD":"2023"},"value":"1234.5",
    ///  "attributes":{"UNIT_MULT":"4"},"line":11,"elementPath":"/GenericData/DataSet[1]/Series[1]/Obs[1]"}
    /// ```
    public var jsonLine: String {
        var s = "{\"kind\":\"record\",\"dimensions\":{"
        s += dimensions.map { "\(Self.json($0)):\(Self.json($1))" }.joined(separator: ",")
        s += "},\"value\":" + (value.map(Self.json) ?? "null")
        s += ",\"attributes\":{"
        s += attributes.sorted { $0.key < $1.key }.map { "\(Self.json($0.key)):\(Self.json($0.value))" }.joined(separator: ",")
        s += "},\"line\":\(line),\"elementPath\":\(Self.json(elementPath))}"
        return s
    }

    static func json(_ text: String) -> String { JSONText.quoted(text) }
}
