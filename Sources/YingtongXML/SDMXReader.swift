import Foundation
import YingtongIngest
import YingtongModel

/// How SDMX codes become yingtong's macro long form (`region_code, period, indicator, value, unit`); the
/// pipeline definition configures it (FORMATS §4).
///
/// ```swift
/// var mapping = SDMXMapping()
/// mapping.indicatorCodes = ["B1GQ": "GDP"]        // the sender's code list → yingtong's indicator codes
/// mapping.defaults["region_code"] = "330122"      // a county's own message may omit REF_AREA
/// ```
public struct SDMXMapping: Sendable {
    public var regionDimension = "REF_AREA"
    public var indicatorDimension = "INDICATOR"
    public var periodDimension = "TIME_PERIOD"
    public var unitMultiplierAttribute = "UNIT_MULT"
    public var unitMeasureAttribute = "UNIT_MEASURE"
    /// Sender's indicator code → yingtong's; a code not listed passes through unchanged.
    public var indicatorCodes: [String: String] = [:]
    /// `UNIT_MEASURE` → `UNIT_MULT` (power of ten) → yingtong unit name.
    public var units: [String: [Int: String]] = [
        "CNY": [0: "元", 3: "千元", 4: "万元", 6: "百万元", 8: "亿元"],
        "RMB": [0: "元", 3: "千元", 4: "万元", 6: "百万元", 8: "亿元"],
        "PS": [0: "人", 4: "万人"],
        "PERSON": [0: "人", 4: "万人"],
        "PERSONS": [0: "人", 4: "万人"],
    ]
    /// Values for bindings the message does not carry (`region_code`, `period`, `indicator`, `unit`).
    public var defaults: [String: String] = [:]

    public init() {}

    /// One macro row, or why the observation cannot be one (in Chinese, with a stable code).
    public func row(for obs: SDMXObservation) -> Result<MacroRow, MappingProblem> {
        guard let region = obs.dimensions[regionDimension] ?? defaults["region_code"] else {
            return .failure(MappingProblem(code: "E-SDMX-KEY", messageZh: "观测值缺少维度 \(regionDimension)（行政区划），且映射未给默认值"))
        }
        guard let period = obs.dimensions[periodDimension] ?? defaults["period"] else {
            return .failure(MappingProblem(code: "E-SDMX-KEY", messageZh: "观测值缺少维度 \(periodDimension)（时期），且映射未给默认值"))
        }
        guard let code = obs.dimensions[indicatorDimension] ?? defaults["indicator"] else {
            return .failure(MappingProblem(code: "E-SDMX-KEY", messageZh: "观测值缺少维度 \(indicatorDimension)（指标），且映射未给默认值"))
        }
        let unit: String?
        switch self.unit(measure: obs.attributes[unitMeasureAttribute], multiplier: obs.attributes[unitMultiplierAttribute]) {
        case .success(let u): unit = u ?? defaults["unit"]
        case .failure(let p): return .failure(p)
        }
        var value = obs.value.map(trimSpaces)
        if value == "NaN" || value == "" { value = nil }
        return .success(MacroRow(regionCode: region, period: period, indicator: indicatorCodes[code] ?? code,
                                 value: value, unit: unit))
    }

    func unit(measure: String?, multiplier: String?) -> Result<String?, MappingProblem> {
        let mult: Int
        if let m = multiplier.map(trimSpaces), !m.isEmpty {
            guard let n = Int(m) else {
                return .failure(MappingProblem(code: "E-SDMX-UNIT", messageZh: "\(unitMultiplierAttribute)=\(m) 不是整数"))
            }
            mult = n
        } else {
            mult = 0
        }
        guard let measure = measure.map(trimSpaces), !measure.isEmpty else {
            if mult == 0 { return .success(nil) }
            return .failure(MappingProblem(code: "E-SDMX-UNIT",
                                           messageZh: "有 \(unitMultiplierAttribute)=\(mult) 却没有 \(unitMeasureAttribute)，无法确定计量单位"))
        }
        if let table = units[measure.uppercased()] {
            if let name = table[mult] { return .success(name) }
            return .failure(MappingProblem(code: "E-SDMX-UNIT",
                                           messageZh: "计量单位 \(measure) 的倍数 10^\(mult) 没有对应的中文单位，请在映射中配置"))
        }
        // A sender who already writes 万元 or 人 needs no table.
        if mult == 0 { return .success(measure) }
        return .failure(MappingProblem(code: "E-SDMX-UNIT",
                                       messageZh: "计量单位 \(measure)（倍数 10^\(mult)）未在映射中配置"))
    }
}

/// A macro value in yingtong's long form, as text (normalization parses it).
public struct MacroRow: Sendable, Hashable {
    public var regionCode: String
    public var period: String
    public var indicator: String
    public var value: String?
    public var unit: String?
}

public struct MappingProblem: Error, Sendable, Hashable {
    public var code: String
    public var messageZh: String
}

/// Reads an SDMX-ML 2.1 macro message (role `macro`) into `RawBatch` rows of form `.macro`: the same bindings
/// the macro CSV gives (`region_code`, `period`, `indicator`, `value`, `unit`).
///
/// An observation the mapping cannot place (no region, unknown unit) is quarantined on its own; a document that
/// stops being well-formed keeps the observations before the fault and quarantines the rest as one block.
/// LineAccount: observation elements are record lines, everything else (header, series keys) layout.
public struct SDMXReader: RecordSource {
    public let source: SourceFile
    public var mapping: SDMXMapping
    public var options: SDMXOptions
    public let dictionary: FieldDictionary

    public init(source: SourceFile, mapping: SDMXMapping = SDMXMapping(), options: SDMXOptions = SDMXOptions(),
                dictionary: FieldDictionary = .standard) {
        self.source = source
        self.mapping = mapping
        self.options = options
        self.dictionary = dictionary
    }

    public static func layout(dictionary: FieldDictionary = .standard) -> HeaderLayout {
        let codes = ["region_code", "period", "indicator", "value", "unit"]
        let bindings = codes.enumerated().compactMap { i, c in
            dictionary.field(c).map { ColumnBinding(sourceColumn: i, field: $0, declaredUnit: nil, header: c) }
        }
        return HeaderLayout(form: .macro, formVersion: "sdmx-2.1", bindings: bindings, unknownColumns: [], headerLine: 1)
    }

    public mutating func read(batchSize: Int, into sink: inout some RecordSink) throws -> LineAccount {
        let reader = try SDMXObservationReader(path: source.path, options: options)
        let layout = Self.layout(dictionary: dictionary)
        guard layout.bindings.count == 5 else {
            throw YingtongError("E-SDMX-DICTIONARY", "字段字典缺少宏观数据字段（region_code, period, indicator, value, unit）")
        }
        var batch = RawBatch(source: source, layout: layout)
        var account = LineAccount()
        var lastLine = 0
        var lastObs: SDMXObservation?
        var fault: XMLFault?
        func handle(_ obs: SDMXObservation) throws {
            lastObs = obs
            let start = max(obs.line, lastLine + 1)
            let end = max(obs.lineEnd, start)
            lastLine = end
            let raw = Self.rawText(obs)
            switch mapping.row(for: obs) {
            case .success(let row):
                for cell in [row.regionCode, row.period, row.indicator, row.value, row.unit] {
                    if let cell { batch.appendCell(cell.utf8) } else { batch.appendAbsentCell() }
                }
                batch.endRecord(provenance: Provenance(sourceIndex: source.index, line: Int32(start), lineEnd: Int32(end),
                                                       byteOffset: -1, elementPath: obs.elementPath), raw: raw.utf8)
                account.records += 1
                account.recordLines += end - start + 1
                if batch.count >= batchSize {
                    try sink.accept(batch)
                    batch = RawBatch(source: source, layout: layout)
                }
            case .failure(let p):
                try sink.quarantine(QuarantineEntry(
                    sourceIndex: source.index, file: source.fileName, line: Int32(start), lineEnd: Int32(end),
                    elementPath: obs.elementPath, raw: raw, code: p.code, messageZh: p.messageZh))
                account.quarantinedRecords += 1
                account.quarantinedLines += end - start + 1
            }
        }
        do {
            while let obs = try reader.next() { try handle(obs) }
        } catch let f as XMLFault {
            fault = f
        }
        var kept = reader.observationCount
        if let fault, let replay = FaultReplay.prefix(of: source.path, beforeLine: fault.line) {
            // libxml2's reader drops the nodes it parsed in the chunk that failed. The file up to the faulty line,
            // padded so that its end falls in a later chunk, hands them all out; those already read are skipped.
            defer { try? FileManager.default.removeItem(atPath: replay) }
            if let again = try? SDMXObservationReader(path: replay, options: options) {
                var seen = 0
                do {
                    while let obs = try again.next() {
                        seen += 1
                        if seen > kept { try handle(obs) }
                    }
                } catch is XMLFault {
                } catch is YingtongError {}
                kept = max(kept, seen)
            }
        }
        if batch.count > 0 { try sink.accept(batch) }
        let count = LineCount(path: source.path)
        account.physicalLines = count.lines
        account.bytes = count.bytes
        account.encoding = reader.stream.documentEncoding ?? "UTF-8"
        if let fault {
            // Past the last line when the fault follows the last observation on its line (see YingtongXMLReader).
            let after = lastLine + 1
            let start = min(after, max(count.lines, 1))
            let end = max(count.lines, start)
            let at = fault.column.map { "第 \(fault.line) 行第 \($0) 列" } ?? "第 \(fault.line) 行"
            try sink.quarantine(QuarantineEntry(
                sourceIndex: source.index, file: source.fileName, line: Int32(start), lineEnd: Int32(end),
                elementPath: lastObs?.elementPath,
                raw: FaultReplay.text(of: source.path, fromLine: start, encoding: account.encoding, maxBytes: 64 << 10) ?? "",
                code: fault.code,
                messageZh: "\(fault.messageZh)（出错位置：\(at)）。自第 \(start) 行至文件末尾（第 \(end) 行）的内容整体隔离；此前的 \(kept) 个观测值已正常读取。"))
            account.quarantinedRecords += 1
            // An empty file, or a fault after the last line, quarantines no physical line (see YingtongXMLReader).
            account.quarantinedLines += max(0, min(end, count.lines) - after + 1)
        }
        account.layoutLines = max(0, account.physicalLines - account.recordLines - account.quarantinedLines)
        return account
    }

    /// The observation as one readable line, for quarantine and provenance.
    static func rawText(_ obs: SDMXObservation) -> String {
        var parts = obs.dimensions.map { "\($0)=\($1)" }
        parts.append("OBS_VALUE=\(obs.value ?? "")")
        parts += obs.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return parts.joined(separator: " ")
    }
}
