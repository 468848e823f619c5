import Foundation
import YingtongModel
import YingtongIngest

/// What normalization made of one raw batch.
public struct NormalizedBatch: Sendable {
    public var records: RecordBatch
    /// Values and records that could not be used, located and explained.
    public var quarantine: [QuarantineEntry] = []
    /// Format-level findings (V001–V005) on records that were kept.
    public var violations: [Violation] = []
    /// Physical lines of records moved to quarantine here (identity unusable), for the line account.
    public var quarantinedRecordLines = 0
    public var quarantinedRecords = 0

    public init(records: RecordBatch) { self.records = records }
}

/// Settings normalization needs from the pipeline.
public struct NormalizeSettings: Sendable {
    /// The run's report year: the period of records whose file has no period column.
    public var period: Int
    /// Region codes counted as "this county" for V003 (the county itself plus any the pipeline lists).
    public var countyCodes: Set<String>
    /// Whether normalization itself reports V001–V005. A pipeline whose rule packs define those rules turns this
    /// off, so each finding is reported once, by the rule engine, with the pack's wording and version.
    public var emitFormatFindings: Bool
    /// Most findings kept per record (`InputLimits.maxFindingsPerRecord`).
    public var maxFindingsPerRecord: Int

    public init(period: Int, countyCodes: Set<String>, emitFormatFindings: Bool = true,
                maxFindingsPerRecord: Int = InputLimits().maxFindingsPerRecord) {
        self.period = period
        self.countyCodes = countyCodes
        self.emitFormatFindings = emitFormatFindings
        self.maxFindingsPerRecord = maxFindingsPerRecord
    }
}

/// Turns cell text into typed values in canonical units (DOMAIN §5.6), identities into checked codes, and records
/// the format-level findings V001–V005. Nothing is dropped: an unusable value is quarantined and left missing; an
/// unusable identity quarantines the record.
public struct Normalizer: Sendable {
    public let dictionary: FieldDictionary
    public let industries: IndustryClassification
    public let settings: NormalizeSettings

    public init(dictionary: FieldDictionary = .standard, industries: IndustryClassification = .standard,
                settings: NormalizeSettings) {
        self.dictionary = dictionary
        self.industries = industries
        self.settings = settings
    }

    /// How one bound column is converted. Scalars only: the per-cell loop must not retain strings.
    private struct Plan {
        /// Position in the RecordBatch's columns, -1 for identity fields.
        let column: Int
        let type: FieldType
        /// Unit factor from the declared (or default) unit; nil when the declared unit does not fit the field.
        let factor: UnitFactor?
    }

    public func normalize(_ raw: RawBatch, sequenceStart: Int64) -> NormalizedBatch {
        let form = raw.layout.form
        let fields = dictionary.fields(of: form)
        var out = NormalizedBatch(records: RecordBatch(form: form, formVersion: raw.layout.formVersion, fields: fields,
                                                       capacity: raw.count))
        let bindings = raw.layout.bindings
        var unitLabels: [String?] = []
        let plans: [Plan] = bindings.map { b in
            var unit = b.declaredUnit
            if unit == nil, b.field.type == .money { unit = raw.source.defaultMoneyUnit }
            if unit == nil { unit = b.field.inputUnit }
            unitLabels.append(unit)
            let factor = unit.map { dictionary.units.factor(for: $0, type: b.field.type) } ?? .one
            return Plan(column: out.records.columnPosition(b.field.code) ?? -1, type: b.field.type, factor: factor)
        }
        let bindingOf = Dictionary(uniqueKeysWithValues: bindings.enumerated().map { i, b in (b.field.code, i) })
        let usccB = bindingOf["uscc"], nameB = bindingOf["name"], regionB = bindingOf["region_code"]
        let industryB = bindingOf["industry_code"], periodB = bindingOf["period"], submittedB = bindingOf["submitted_at"]
        let projectB = bindingOf["project_name"]
        let hasCellUnits = !raw.cellUnits.isEmpty
        let file = raw.source.path
        // Built outside `out` so appends never copy the columns (copy-on-write).
        var record = out.records
        out.records = RecordBatch(form: form, formVersion: raw.layout.formVersion, fields: [], capacity: 0)

        raw.arena.withUnsafeBufferPointer { arena in
        for row in 0..<raw.count {
            let prov = raw.provenance[row]
            let quarantineStart = out.quarantine.count
            func quarantineRecord(_ code: String, _ message: String, field: String? = nil) {
                out.quarantine.append(QuarantineEntry(
                    sourceIndex: prov.sourceIndex, file: file, line: prov.line, lineEnd: prov.lineEnd,
                    byteOffset: prov.byteOffset, elementPath: prov.elementPath, field: field, raw: raw.rawText(row),
                    code: code, messageZh: message))
                out.quarantinedRecordLines += prov.lineCount
                out.quarantinedRecords += 1
            }
            func cell(_ b: Int?) -> String? {
                guard let b else { return nil }
                return raw.withCell(row, b) { $0.map(ByteText.trimmedString) }
            }
            func text(_ code: String) -> String? { cell(bindingOf[code]) }

            // ── identity ────────────────────────────────────────────────────────────────────────────
            var uscc = ""
            if form.requiresUSCC {
                let rawUSCC = cell(usccB) ?? ""
                if rawUSCC.isEmpty || NumberText.isPlaceholder(rawUSCC) {
                    quarantineRecord("E-ID-USCC-MISSING", "统一社会信用代码为空，无法确定是哪家单位的记录，整条记录已隔离", field: "uscc")
                    continue
                }
                if Self.looksScientific(rawUSCC) {
                    quarantineRecord("E-ID-USCC-EXCEL", "统一社会信用代码“\(rawUSCC)”已被 Excel 转成科学计数法，原值无法恢复；请将该列设为文本后重新导出，整条记录已隔离", field: "uscc")
                    continue
                }
                uscc = USCC.normalize(rawUSCC)
            }
            var period = settings.period
            if let pb = periodB, let (p, parsed) = raw.withCell(row, pb, { c -> (String, Int?)? in
                guard let c, !ByteText.trimmed(c).isEmpty else { return nil }
                let y = PeriodText.year(bytes: c)
                return (y == nil ? ByteText.trimmedString(c) : "", y)
            }) {
                guard let y = parsed else {
                    quarantineRecord("E-ID-PERIOD", "报告期“\(p)”无法识别（应为 2023、2023年、2023-12 或 202312），整条记录已隔离", field: "period")
                    continue
                }
                period = y
            }
            if form == .projects {
                let name = cell(projectB) ?? ""
                if name.isEmpty || NumberText.isPlaceholder(name) {
                    quarantineRecord("E-ID-PROJECT-NAME", "项目名称为空，无法区分该企业的项目，整条记录已隔离", field: "project_name")
                    continue
                }
            }
            if form == .macro {
                let region = text("region_code") ?? ""
                guard RegionCode.isWellFormed(HeaderText.halfWidth(region)) else {
                    quarantineRecord("E-ID-REGION", "宏观数据的行政区划代码“\(region)”不是6位区划代码，整条记录已隔离", field: "region_code")
                    continue
                }
            }

            var violations: [Violation] = []
            func violation(_ rule: String, _ severity: Severity, fields: [String], observed: String, _ message: String) {
                // Registries are other providers' evidence, not reports: their codes are not ours to query.
                guard settings.emitFormatFindings, form.isSubmission else { return }
                violations.append(Violation(rule: rule, severity: severity, level: 0, uscc: uscc, period: period,
                                            projectName: nil, fields: fields, observed: observed,
                                            messageZh: message, sourceIndex: prov.sourceIndex, line: prov.line))
            }
            if form != .macro {
                if let problem = USCC.problem(uscc) {
                    violation("V001", .error, fields: ["uscc"], observed: uscc,
                              "V001 统一社会信用代码“\(uscc)”\(problem.rawValue)（GB 32100-2015），请核对后重新报送")
                } else if let org = USCC.embeddedOrgCode(uscc), !OrgCode.isValid(org) {
                    violation("V002", .warning, fields: ["uscc"], observed: uscc,
                              "V002 统一社会信用代码“\(uscc)”第9至17位内嵌的组织机构代码 \(org) 校验位不符（GB 11714），请核实")
                }
                if USCC.problem(uscc) == nil, let area = USCC.areaCode(uscc), !settings.countyCodes.isEmpty,
                   !settings.countyCodes.contains(area) {
                    violation("V003", .warning, fields: ["uscc"], observed: area,
                              "V003 统一社会信用代码的登记管理机关区划 \(area) 与本县（\(settings.countyCodes.sorted().joined(separator: "、"))）不符，请核实是否属本地统计单位")
                }
            }
            var region: String?
            if let r = cell(regionB), !r.isEmpty, !NumberText.isPlaceholder(r) {
                let h = HeaderText.halfWidth(r)
                if RegionCode.isWellFormed(h) {
                    region = h
                } else {
                    out.quarantine.append(QuarantineEntry(
                        sourceIndex: prov.sourceIndex, file: file, line: prov.line, lineEnd: prov.lineEnd,
                        byteOffset: prov.byteOffset, field: "region_code", raw: r, code: "E-VALUE-REGION",
                        messageZh: "行政区划代码“\(r)”不是6位区划代码（GB/T 2260），该值已隔离，记录保留"))
                }
            }
            var industry: String?
            if let ind = cell(industryB), !ind.isEmpty, !NumberText.isPlaceholder(ind) {
                switch industries.parse(ind) {
                case .valid(let code): industry = code
                case .invalid(let why):
                    industry = ind
                    violation("V004", .error, fields: ["industry_code"], observed: ind,
                              "V004 行业代码“\(ind)”\(why)，请按 GB/T 4754-2017 填报4位小类代码")
                }
            }

            // ── values ──────────────────────────────────────────────────────────────────────────────
            var filled = [Bool](repeating: false, count: record.columns.count)
            let macroIndicator = form == .macro ? text("indicator").flatMap { dictionary.macroIndicator($0) } : nil
            for b in 0..<plans.count {
                let plan = plans[b]
                let col = plan.column
                if col < 0 { continue }
                filled[col] = true
                if plan.type.isNumeric {
                    var parsed: ParsedNumber = raw.cell(row, b, in: arena).map {
                        NumberText.classify($0, percentAllowed: plan.type == .ratio)
                    } ?? .missing
                    var factor = plan.factor
                    var unitLabel = unitLabels[b]
                    if hasCellUnits, let cellUnit = raw.cellUnit(row, b) {
                        unitLabel = cellUnit
                        factor = dictionary.units.factor(for: cellUnit, type: plan.type)
                    }
                    if form == .macro, bindings[b].field.code == "value" {
                        // Macro values take their unit from the row and their dimension from the indicator.
                        let u = text("unit") ?? ""
                        unitLabel = u
                        factor = macroIndicator.flatMap { dictionary.units.factor(for: u, type: $0.type) }
                        if macroIndicator == nil, case .value = parsed {
                            parsed = .invalid("E-VALUE-INDICATOR")
                        }
                    }
                    switch parsed {
                    case .missing:
                        record.columns[col].appendMissing()
                    case .invalid(let code):
                        let field = bindings[b].field
                        record.columns[col].appendMissing()
                        let cell = raw.cellText(row, b) ?? ""
                        let message = code == "E-VALUE-INDICATOR"
                            ? "宏观指标代码“\(text("indicator") ?? "")”不在字典中（可用：\(dictionary.macroIndicators.map(\.code).joined(separator: "、"))），该值已隔离"
                            : "字段 \(field.code)（\(field.name)）的值“\(cell)”不是有效数字，该值已隔离并按缺失处理，记录保留"
                        out.quarantine.append(QuarantineEntry(
                            sourceIndex: prov.sourceIndex, file: file, line: prov.line, lineEnd: prov.lineEnd,
                            byteOffset: prov.byteOffset, elementPath: prov.elementPath, field: field.code, raw: cell,
                            code: code, messageZh: message))
                    case .value(let v):
                        guard let factor, let converted = v.scaled(by: factor) else {
                            let field = bindings[b].field
                            record.columns[col].appendMissing()
                            let cell = raw.cellText(row, b) ?? ""
                            out.quarantine.append(QuarantineEntry(
                                sourceIndex: prov.sourceIndex, file: file, line: prov.line, lineEnd: prov.lineEnd,
                                byteOffset: prov.byteOffset, elementPath: prov.elementPath, field: field.code, raw: cell,
                                code: "E-VALUE-UNIT",
                                messageZh: "字段 \(field.code)（\(field.name)）声明的单位“\(unitLabel ?? "")”不适用于该字段（应为 \(field.unit ?? "无单位")），该值已隔离"))
                            continue
                        }
                        record.columns[col].append(converted)
                        if converted.isNegative || (plan.type == .count && !converted.isIntegral) {
                            let field = bindings[b].field
                            if converted.isNegative {
                                violation("V005", .error, fields: [field.code], observed: converted.description,
                                          "V005 \(field.name)（\(field.code)）为负数 \(converted)，请更正")
                            } else {
                                violation("V005", .error, fields: [field.code], observed: converted.description,
                                          "V005 \(field.name)（\(field.code)）应为整数（\(field.unit ?? "")），填报值为 \(converted)")
                            }
                        }
                    }
                } else {
                    let field = bindings[b].field
                    let cell = raw.withCell(row, b) { $0.map(ByteText.trimmedString) } ?? ""
                    if cell.isEmpty || (field.type != .text && NumberText.isPlaceholder(cell)) {
                        record.columns[col].appendMissing()
                        continue
                    }
                    switch normalizeText(cell, field: field) {
                    case .success(let t): record.columns[col].append(text: t)
                    case .failure(let e):
                        record.columns[col].appendMissing()
                        out.quarantine.append(QuarantineEntry(
                            sourceIndex: prov.sourceIndex, file: file, line: prov.line, lineEnd: prov.lineEnd,
                            byteOffset: prov.byteOffset, elementPath: prov.elementPath, field: field.code, raw: cell,
                            code: e.code, messageZh: e.messageZh))
                    }
                }
            }
            for c in 0..<record.columns.count where !filled[c] { record.columns[c].appendMissing() }
            if let macroIndicator, let u = record.columnPosition("unit") {
                // The value was converted to the indicator's canonical unit above; the row says so from here on
                // (the unit as sent stays in the raw text and provenance).
                record.columns[u].texts[record.columns[u].texts.count - 1] = macroIndicator.unit
                record.columns[u].present[record.columns[u].present.count - 1] = true
            }
            record.uscc.append(uscc)
            record.name.append(cell(nameB).flatMap { $0.isEmpty ? nil : $0 })
            record.regionCode.append(region)
            record.industryCode.append(industry)
            record.period.append(period)
            record.submittedAt.append(cell(submittedB).flatMap { $0.isEmpty ? nil : Self.normalizeTimestamp($0) })
            record.sequence.append(sequenceStart + Int64(row))
            record.provenance.append(prov)
            record.status.append(violations.contains { $0.severity == .error } ? .rejected : violations.isEmpty ? .clean : .flagged)
            let valueEntries = out.quarantine.count - quarantineStart
            let limit = settings.maxFindingsPerRecord
            if valueEntries + violations.count > limit {
                // Resource limit: format findings decide the status, so they are kept first; the rest are counted.
                let keptViolations = min(violations.count, limit)
                let keptValues = limit - keptViolations
                let over = valueEntries + violations.count - limit
                out.quarantine.removeSubrange((quarantineStart + keptValues)...)
                violations.removeSubrange(keptViolations...)
                out.quarantine.append(QuarantineEntry(
                    sourceIndex: prov.sourceIndex, file: file, line: prov.line, lineEnd: prov.lineEnd,
                    byteOffset: prov.byteOffset, elementPath: prov.elementPath, field: "*", raw: "",
                    code: "E-LIMIT-FINDINGS",
                    messageZh: "该记录的问题超过每条记录保留上限 \(limit) 条：另有 \(over) 条（隔离的值或格式问题）未逐条保存；记录状态已按全部问题确定，请整体核对该记录"))
            }
            out.violations.append(contentsOf: violations)
        }
        }
        out.records = record
        return out
    }

    private func normalizeText(_ cell: String, field: FieldDefinition) -> Result<String, YingtongError> {
        switch field.type {
        case .code:
            // `cell` is already trimmed; only full-width forms remain to fold.
            let h = HeaderText.halfWidth(cell)
            if field.validator == "uscc" { return .success(USCC.normalize(h)) }
            guard !field.values.isEmpty else { return .success(h) }
            if field.values[h] != nil { return .success(h) }
            // A label instead of a code (`本企业自选项目`), or a code with its label (`1 本企业自选项目`, `1-…`).
            if let hit = field.values.first(where: { $0.value == h }) { return .success(hit.key) }
            let lead = String(h.prefix { $0.isASCII && $0.isNumber })
            if !lead.isEmpty, field.values[lead] != nil { return .success(lead) }
            if let n = Int(lead), field.values[String(n)] != nil { return .success(String(n)) }
            return .failure(YingtongError("E-VALUE-CODE",
                "字段 \(field.code)（\(field.name)）的代码“\(cell)”不在代码表中（\(field.values.keys.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.joined(separator: "、"))），该值已隔离"))
        case .date:
            // An unreadable date is kept as sent: R116 (project dates) reports it with the enterprise's own text.
            if let ym = PeriodText.yearMonth(cell) { return .success(String(ym)) }
            return .success(cell)
        case .flag:
            let h = HeaderText.halfWidth(cell).uppercased()
            if ["是", "Y", "YES", "1", "有", "TRUE", "√"].contains(h) { return .success("是") }
            if ["否", "N", "NO", "0", "无", "FALSE", "×"].contains(h) { return .success("否") }
            return .failure(YingtongError("E-VALUE-FLAG", "字段 \(field.code)（\(field.name)）的值“\(cell)”应为 是/否、有/无、Y/N 或 1/0，该值已隔离"))
        default:
            return .success(cell)
        }
    }

    /// `9.13308E+17`: Excel turned a code into a float and dropped its digits.
    static func looksScientific(_ s: String) -> Bool {
        if !s.utf8.contains(where: { $0 == 0x45 || $0 == 0x65 }) { return false }
        let u = s.uppercased()
        guard let e = u.firstIndex(of: "E"), e != u.startIndex else { return false }
        let mant = u[..<e], exp = u[u.index(after: e)...]
        return mant.allSatisfy { $0.isNumber || $0 == "." } && exp.allSatisfy { $0.isNumber || $0 == "+" || $0 == "-" } && !exp.isEmpty
    }

    /// `2024/3/15 10:02` → `2024-03-15T10:02:00`; ISO text passes unchanged. Sorting by the text then sorts by time.
    static func normalizeTimestamp(_ s: String) -> String {
        let u = Array(s.utf8)
        if u.count == 19, u[4] == 0x2D, u[7] == 0x2D, u[13] == 0x3A, u[16] == 0x3A, u[10] == 0x20 || u[10] == 0x54 {
            if u[10] == 0x54 { return s }
            var t = u
            t[10] = 0x54
            return String(decoding: t, as: UTF8.self)
        }
        let h = HeaderText.halfWidth(s)
        let parts = h.split(whereSeparator: { !($0.isASCII && $0.isNumber) }).compactMap { Int($0) }
        guard parts.count >= 3, parts[0] > 1900 else { return h }
        let f = { (v: Int) in v < 10 ? "0\(v)" : "\(v)" }
        var out = "\(parts[0])-\(f(parts[1]))-\(f(parts[2]))"
        if parts.count >= 5 { out += "T\(f(parts[3])):\(f(parts[4])):\(f(parts.count >= 6 ? parts[5] : 0))" }
        return out
    }
}
