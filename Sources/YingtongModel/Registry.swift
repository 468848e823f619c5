import Foundation
import Yams

/// One registry the rule language can name (`listed(hte)`, `lookup(tax_deduction, rd_deduction_base)`): which
/// source's rows, keyed by which column, filtered to which report year and which values.
///
/// The catalogue is data (`Reference/registries.yaml`): a bureau that receives a new list adds a registry there
/// and a rule that names it, without code.
///
/// ```swift
/// let hte = RegistryCatalog.standard.registry("hte")!
/// hte.form        // .hte
/// hte.period      // .validFor(dateField: "hte_issued_on", years: 3)
/// ```
public struct Registry: Sendable, Hashable {
    public enum PeriodRule: Sendable, Hashable {
        /// Every row counts, whatever its year (the roster is the run's roster).
        case any
        /// The row's 年度 equals the report year.
        case same
        /// The year of a date column equals the report year.
        case yearOf(String)
        /// A certificate counts in the year of its date and the `years − 1` following.
        case validFor(dateField: String, years: Int)
    }

    /// What the 应统尽统 list shows from this registry: the columns to quote, and the amount it implies the
    /// enterprise should have reported in `compareWith` (the estimate is that amount minus what was reported).
    public struct Evidence: Sendable, Hashable {
        public var show: [String]
        public var amount: String?
        /// Instead of an amount column: this share of the roster's revenue (高企: at least 3%).
        public var revenueShare: Decimal?
        public var compareWith: String?
    }

    public var name: String
    public var titleZh: String
    public var form: Form
    public var key: String
    /// The column holding the enterprise's name (identity `name` unless said otherwise).
    public var nameField: String
    public var period: PeriodRule
    /// column → accepted values
    public var filter: [String: [String]]
    public var evidence: Evidence?
    /// Whether a row makes its enterprise one of the county's units (to be examined if it sent nothing).
    public var listsUnits: Bool = true

    /// The fields `lookup(registry, field)` may read: numbers, summed over the matching rows, and flags (是 = 1).
    public func lookupFields(_ dictionary: FieldDictionary) -> [String] {
        dictionary.fields(of: form).filter { $0.type.isNumeric || $0.type == .flag }.map(\.code)
    }
}

/// The registries of `Reference/registries.yaml`, checked against the field dictionary when loaded.
public final class RegistryCatalog: Sendable {
    public let registries: [Registry]
    private let byName: [String: Registry]

    public static let standard: RegistryCatalog = {
        do {
            return try RegistryCatalog(yaml: ReferenceData.text("registries.yaml"), dictionary: .standard)
        } catch {
            fatalError("内置名单目录无法读取（registries.yaml）：\(error)")
        }
    }()

    public init(yaml: String, dictionary: FieldDictionary) throws {
        func bad(_ why: String) -> ReferenceError { .malformed("registries.yaml", why) }
        guard let root = try Yams.load(yaml: yaml) as? [String: Any],
              let entries = root["registries"] as? [String: Any] else { throw bad("缺少 registries 映射") }
        var out: [Registry] = []
        for (name, raw) in entries {
            guard let m = raw as? [String: Any] else { throw bad("名单 \(name) 应为映射") }
            guard let formText = m["form"] as? String, let form = Form(rawValue: formText) else {
                throw bad("名单 \(name) 的 form 无效")
            }
            let known = Set((dictionary.identity + dictionary.fields(of: form)).map(\.code))
            func column(_ c: String, _ what: String) throws -> String {
                guard known.contains(c) else { throw bad("名单 \(name) 的 \(what) \(c) 不是 \(form.rawValue) 的字段") }
                return c
            }
            let key = try column((m["key"] as? String) ?? "uscc", "key")
            let nameField = try column((m["name_field"] as? String) ?? "name", "name_field")
            var period = Registry.PeriodRule.any
            if let p = m["period"] as? String {
                switch p {
                case "any": period = .any
                case "same": period = .same
                default: throw bad("名单 \(name) 的 period 应为 any、same 或映射")
                }
            } else if let p = m["period"] as? [String: Any] {
                if let d = p["year_of"] as? String {
                    period = .yearOf(try column(d, "year_of"))
                } else if let d = p["valid_from"] as? String, let y = p["valid_years"] as? Int, y > 0 {
                    period = .validFor(dateField: try column(d, "valid_from"), years: y)
                } else {
                    throw bad("名单 \(name) 的 period 映射应为 year_of 或 valid_from + valid_years")
                }
            }
            var filter: [String: [String]] = [:]
            for (c, v) in (m["where"] as? [String: Any]) ?? [:] {
                filter[try column(c, "where")] = ((v as? [Any]) ?? [v]).map { "\($0)" }
            }
            var evidence: Registry.Evidence?
            if let e = m["evidence"] as? [String: Any] {
                let show = try ((e["show"] as? [Any]) ?? []).map { try column("\($0)", "evidence.show") }
                let amount = try (e["amount"] as? String).map { try column($0, "evidence.amount") }
                let compare = e["compare_with"] as? String
                if let compare, dictionary.field(compare)?.form != .activity {
                    throw bad("名单 \(name) 的 evidence.compare_with \(compare) 不是107-2字段")
                }
                let share = e["revenue_share"].flatMap { Decimal(string: "\($0)", locale: Locale(identifier: "en_US_POSIX")) }
                if (amount != nil || share != nil) && compare == nil {
                    throw bad("名单 \(name) 的 evidence 给出金额时须有 compare_with")
                }
                evidence = Registry.Evidence(show: show, amount: amount, revenueShare: share, compareWith: compare)
            }
            var registry = Registry(name: name, titleZh: (m["title"] as? String) ?? name, form: form, key: key,
                                    nameField: nameField, period: period, filter: filter, evidence: evidence)
            registry.listsUnits = (m["lists_units"] as? Bool) ?? true
            out.append(registry)
        }
        registries = out.sorted { $0.name < $1.name }
        byName = Dictionary(uniqueKeysWithValues: out.map { ($0.name, $0) })
    }

    public func registry(_ name: String) -> Registry? { byName[name] }

    /// The registries that read a source role's rows.
    public func registries(of form: Form) -> [Registry] { registries.filter { $0.form == form } }
}
