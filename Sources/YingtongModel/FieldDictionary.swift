import Foundation
import Yams

/// The kind of value a field holds; it decides parsing, units and how the store keeps it.
public enum FieldType: String, Sendable, Codable, CaseIterable {
    case count, money, quantity, ratio, code, text, date, flag, period

    /// Numbers are held as `Milli` (thousandths of the canonical unit).
    public var isNumeric: Bool { self == .count || self == .money || self == .quantity || self == .ratio }
}

/// How a child field relates to its parent total.
public enum FieldRelation: String, Sendable, Codable {
    /// parent = Σ components
    case component
    /// child ≤ parent
    case subset
}

/// The forms and other record shapes yingtong reads.
///
/// Registries (FORMATS §1, §5) are forms too: other providers' lists read with the same ingest discipline and
/// kept in their own tables, keyed by USCC, for the 应统尽统 checks. A form's raw value is the pipeline role
/// that sends it (`registry.hte`), except the enterprise forms, which keep their official numbers.
public enum Form: String, Sendable, Codable, CaseIterable {
    case activity = "107-2"
    case projects = "107-1"
    case roster
    case macro
    /// 火炬统计 figures of the same enterprises: 107-2 fields under qj codes, kept apart from the 107-2 records.
    case torch = "torch_rd"
    case hte = "registry.hte"
    case tsme = "registry.tsme"
    case taxDeduction = "registry.tax_deduction"
    case techContract = "registry.tech_contract"
    case rdInstitution = "registry.rd_institution"
    case patent = "registry.patent"
    case govFunding = "registry.gov_funding"
    /// The optional lists behind the work report's funnel figures (FORMATS §5).
    case hteCandidates = "registry.hte_candidates"
    case tsmeApplications = "registry.tsme_applications"
    case techLoan = "registry.tech_loan"
    case platform = "registry.platform"

    public var recordType: String {
        switch self {
        case .activity: "enterprise_activity"
        case .projects: "rd_project"
        case .roster: "roster_unit"
        case .macro: "macro_value"
        case .torch: "torch_activity"
        default: rawValue.replacingOccurrences(of: ".", with: "_")
        }
    }

    public var titleZh: String {
        switch self {
        case .activity: "企业研究开发活动及相关情况（107-2）"
        case .projects: "企业研究开发项目情况（107-1）"
        case .roster: "规上企业名录"
        case .macro: "县域宏观数据"
        case .torch: "火炬统计企业研发数据"
        case .hte: "高新技术企业名单"
        case .tsme: "科技型中小企业入库名单"
        case .taxDeduction: "研发费用加计扣除数据"
        case .techContract: "技术合同登记"
        case .rdInstitution: "企业研发机构名单"
        case .patent: "专利数据"
        case .govFunding: "科技计划项目与政府研发补助"
        case .hteCandidates: "高企培育与申报名单"
        case .tsmeApplications: "科技型中小企业申报名单"
        case .techLoan: "科技成果转化贷款"
        case .platform: "孵化载体与科创平台"
        }
    }

    /// The form whose fields this one carries: 火炬 data is the 107-2 under other headers.
    public var fieldForm: Form { self == .torch ? .activity : self }

    /// An enterprise's own statistical report, checked by the format rules (V001–V005) and the rule packs.
    public var isSubmission: Bool { self == .activity || self == .projects }

    /// Whether every row names its unit by a USCC; a contract names two (seller, buyer) in its own fields.
    public var requiresUSCC: Bool { self != .macro && self != .techContract && self != .platform }

    /// The role a pipeline source sends this form under, when the role alone decides the form.
    public static func forRole(_ role: String) -> Form? {
        switch role {
        case "roster": .roster
        case "macro": .macro
        default: Form(rawValue: role).flatMap { $0.isSubmission ? nil : $0 }
        }
    }
}

/// One field of the dictionary (a 107-2 row, a 107-1 column, a roster or identity column).
///
/// A class, not a struct: every batch column and every bound header carries its field, and the per-cell loops of
/// normalization and loading copy them; a struct of eleven strings, arrays and dictionaries cost eleven retains and
/// releases per copy (about a tenth of the load's CPU at 1M enterprises), a class one. Equality stays by value.
public final class FieldDefinition: Sendable, Hashable {
    public let code: String
    public let name: String
    public let aliases: [String]
    /// nil for identity fields, which every form carries.
    public let form: Form?
    /// Official row number (代码) per form version ("2021", "pre2021").
    public let rows: [String: Int]
    /// Canonical unit, e.g. 千元, 人, 人月.
    public let unit: String?
    public let type: FieldType
    public let parent: String?
    public let relation: FieldRelation?
    /// Code lists (项目来源, 开展形式…): code → label.
    public let values: [String: String]
    /// Named code validator: uscc, region, industry.
    public let validator: String?
    /// The unit a value is in when neither its header nor its source says (e.g. 元 for the tax bureau's
    /// deduction base, 万元 for contract amounts); nil: the canonical unit.
    public let inputUnit: String?

    public var isIdentity: Bool { form == nil }

    init(code: String, name: String, aliases: [String], form: Form?, rows: [String: Int], unit: String?,
         type: FieldType, parent: String?, relation: FieldRelation?, values: [String: String], validator: String?,
         inputUnit: String?) {
        self.code = code
        self.name = name
        self.aliases = aliases
        self.form = form
        self.rows = rows
        self.unit = unit
        self.type = type
        self.parent = parent
        self.relation = relation
        self.values = values
        self.validator = validator
        self.inputUnit = inputUnit
    }

    public static func == (a: FieldDefinition, b: FieldDefinition) -> Bool {
        a === b || (a.code == b.code && a.name == b.name && a.aliases == b.aliases && a.form == b.form
                    && a.rows == b.rows && a.unit == b.unit && a.type == b.type && a.parent == b.parent
                    && a.relation == b.relation && a.values == b.values && a.validator == b.validator
                    && a.inputUnit == b.inputUnit)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(form)
    }
}

/// A macro indicator code (long CSV form and SDMX `INDICATOR`).
public struct MacroIndicator: Sendable, Hashable {
    public let code: String
    public let field: String
    public let name: String
    public let type: FieldType
    public let unit: String
}

/// The field dictionary: every field code, Chinese name, alias, official row number, unit, type and relation.
///
/// It is read from `Reference/fields.yaml`, shipped with the module, so that a statistician changes a name or
/// adds an alias without touching code.
///
/// ```swift
/// let dict = FieldDictionary.standard
/// dict.field("rd_exp_total")?.rows["2021"]   // 7
/// dict.resolveHeader("研究开发费用合计（万元）", form: .activity) // rd_exp_total, unit 万元
/// ```
public final class FieldDictionary: Sendable {
    public let fields: [FieldDefinition]
    public let identity: [FieldDefinition]
    public let macroIndicators: [MacroIndicator]
    public let units: UnitTable
    public let formVersions: [String]

    private let byCode: [String: FieldDefinition]
    /// Normalized name or alias → candidate fields (several forms may share a name, e.g. 研究开发人员).
    private let byName: [String: [FieldDefinition]]

    /// The dictionary shipped with yingtong.
    public static let standard: FieldDictionary = {
        do {
            return try FieldDictionary(yaml: ReferenceData.text("fields.yaml"))
        } catch {
            fatalError("内置字段字典无法读取（fields.yaml）：\(error)")
        }
    }()

    public init(yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else {
            throw ReferenceError.malformed("fields.yaml", "顶层不是映射")
        }
        func parse(_ raw: Any, identity: Bool) throws -> FieldDefinition {
            guard let m = raw as? [String: Any], let code = m["code"] as? String, let name = m["name"] as? String,
                  let typeText = m["type"] as? String, let type = FieldType(rawValue: typeText) else {
                throw ReferenceError.malformed("fields.yaml", "字段条目缺少 code/name/type：\(raw)")
            }
            var form: Form?
            if !identity {
                guard let f = m["form"].map({ "\($0)" }), let parsed = Form(rawValue: f) else {
                    throw ReferenceError.malformed("fields.yaml", "字段 \(code) 的 form 无效")
                }
                form = parsed
            }
            var rows: [String: Int] = [:]
            for (k, v) in (m["rows"] as? [AnyHashable: Any]) ?? [:] {
                if let n = v as? Int { rows["\(k)"] = n }
            }
            var values: [String: String] = [:]
            for (k, v) in (m["values"] as? [AnyHashable: Any]) ?? [:] { values["\(k)"] = "\(v)" }
            let aliases = ((m["aliases"] as? [Any]) ?? []).map { "\($0)" }
            return FieldDefinition(
                code: code, name: name, aliases: aliases, form: form, rows: rows,
                unit: m["unit"] as? String, type: type,
                parent: m["parent"] as? String,
                relation: (m["relation"] as? String).flatMap(FieldRelation.init(rawValue:)),
                values: values, validator: m["validator"] as? String, inputUnit: m["input_unit"] as? String)
        }
        identity = try ((root["identity"] as? [Any]) ?? []).map { try parse($0, identity: true) }
        fields = try ((root["fields"] as? [Any]) ?? []).map { try parse($0, identity: false) }
        macroIndicators = ((root["macro_indicators"] as? [[String: Any]]) ?? []).compactMap { m in
            guard let code = m["code"] as? String, let field = m["field"] as? String,
                  let t = (m["type"] as? String).flatMap(FieldType.init(rawValue:)) else { return nil }
            return MacroIndicator(code: code, field: field, name: (m["name"] as? String) ?? code, type: t,
                                  unit: (m["unit"] as? String) ?? "")
        }
        formVersions = ((root["form_versions"] as? [Any]) ?? []).map { "\($0)" }
        units = try UnitTable(raw: root["units"] as? [String: Any] ?? [:])

        var byCode: [String: FieldDefinition] = [:]
        var byName: [String: [FieldDefinition]] = [:]
        for f in identity + fields {
            guard byCode[f.code] == nil else {
                throw ReferenceError.malformed("fields.yaml", "字段代码重复：\(f.code)")
            }
            byCode[f.code] = f
            for label in [f.name] + f.aliases {
                let key = HeaderText.normalizedLabel(label)
                if !(byName[key]?.contains(f) ?? false) { byName[key, default: []].append(f) }
            }
        }
        self.byCode = byCode
        self.byName = byName
        // Relations must point at fields that exist: a typo here would silently drop a balance check.
        for f in fields {
            if let p = f.parent, byCode[p] == nil {
                throw ReferenceError.malformed("fields.yaml", "字段 \(f.code) 的 parent \(p) 不存在")
            }
        }
    }

    public func field(_ code: String) -> FieldDefinition? { byCode[code] }

    public func fields(of form: Form) -> [FieldDefinition] {
        let f = form.fieldForm
        return fields.filter { $0.form == f }
    }

    /// The fields whose parent is `code`, with their relation.
    public func children(of code: String) -> [FieldDefinition] { fields.filter { $0.parent == code } }

    public func field(form: Form, version: String, row: Int) -> FieldDefinition? {
        fields.first { $0.form == form && $0.rows[version] == row }
    }

    public func macroIndicator(_ code: String) -> MacroIndicator? {
        macroIndicators.first { $0.code.caseInsensitiveCompare(code) == .orderedSame }
    }

    /// Fields a header label may name (by code, name or alias), most specific first: the given form's own fields,
    /// then identity fields, then any other form.
    public func candidates(forLabel label: String, form: Form?) -> [FieldDefinition] {
        if let exact = byCode[label.trimmingCharacters(in: .whitespaces)] { return [exact] }
        let key = HeaderText.normalizedLabel(label)
        var found = byName[key] ?? []
        if found.isEmpty {
            // Headers often keep the form's numbering or "其中：" prefix, which the dictionary omits.
            let stripped = HeaderText.strippingOrdinals(key)
            if stripped != key { found = byName[stripped] ?? [] }
        }
        if let form {
            let own = found.filter { $0.form == form.fieldForm }
            if !own.isEmpty { return own }
            let ident = found.filter { $0.isIdentity }
            if !ident.isEmpty { return ident }
        }
        return found
    }
}

public enum ReferenceError: Error, CustomStringConvertible {
    case missing(String)
    case malformed(String, String)

    public var description: String {
        switch self {
        case .missing(let f): "参考数据文件缺失：\(f)"
        case .malformed(let f, let why): "参考数据文件 \(f) 格式错误：\(why)"
        }
    }
}

/// Reference data shipped in the module's `Reference/` folder.
public enum ReferenceData {
    public static func url(_ name: String) throws -> URL {
        if let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Reference") {
            return url
        }
        throw ReferenceError.missing(name)
    }

    public static func text(_ name: String) throws -> String {
        try String(contentsOf: url(name), encoding: .utf8)
    }
}
