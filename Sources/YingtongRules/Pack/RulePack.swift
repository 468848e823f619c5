import COpenSSL
import Foundation
import Yams
import YingtongModel

/// Expression text from a rule file and where it starts, so that errors point into the file.
public struct LocatedText: Sendable, Hashable {
    public var text: String
    public var file: String
    public var location: SourceLocation
    /// Indentation of the scalar's continuation lines (block scalars).
    public var indent: Int

    public init(_ text: String, file: String = "<inline>", location: SourceLocation = SourceLocation(line: 1, column: 1), indent: Int = 0) {
        self.text = text
        self.file = file
        self.location = location
        self.indent = indent
    }

    func parse() throws -> Syntax {
        do {
            return try Parser.parse(text, start: location, indent: indent)
        } catch var e as RuleError {
            e.file = file
            throw e
        }
    }
}

/// What a check does with a missing value it reads.
public enum OnMissing: String, Sendable {
    /// Not applicable (the default): counted, never a silent pass.
    case skip
    /// A missing value is itself the finding.
    case fail
    /// Missing numbers read as 0 (for fields a form leaves blank when nothing happened).
    case zero
}

/// Which enterprises a rule examines. `unreported` are the units some other source names (the roster, a
/// registry, last year's store) that sent no 107-2 this period: they are evaluated as a record with every
/// reported value missing, so the same rule text covers "r7 = 0" and "sent nothing" (DOMAIN §4: X01, X10…).
public enum RuleSubject: String, Sendable, Hashable, CaseIterable {
    case reported
    case unreported
}

/// `each_field`: one check per field of a kind, with `it` bound to the field (V005 "every count is integral").
public struct EachField: Sendable, Hashable {
    public var forms: [Form]
    public var types: [FieldType]
}

/// One rule as written in a pack (DOMAIN §3; GUIDE "Rules are data").
///
/// ```yaml
/// - id: R104
///   severity: error          # error = 强制性, warning = 核实性, info
///   level: 1                 # ESS 0 format … 5 other provider
///   check: rd_new_fixed_assets >= rd_new_fixed_assets_equip
///   fields: [rd_new_fixed_assets, rd_new_fixed_assets_equip]
///   tolerance: 1             # 千元, for rounding
///   message_zh: 当年形成固定资产（{rd_new_fixed_assets}千元）小于其中仪器和设备（{rd_new_fixed_assets_equip}千元）
/// ```
public struct RuleDefinition: Sendable {
    public var id: String
    public var nameZh: String?
    public var severity: Severity
    public var level: Int
    public var scope: RowScope?
    public var when: LocatedText?
    public var check: LocatedText
    public var fields: [String]
    /// A number or the name of a parameter.
    public var tolerance: String?
    public var params: [String: Constant]
    public var onMissing: OnMissing
    public var messageZh: String
    public var messageEn: String?
    public var since: Int?
    public var until: Int?
    public var ref: String?
    public var eachField: EachField?
    /// Group rules: the key; the check is over aggregates of each group.
    public var groupBy: [String]?
    /// Enterprises the rule examines (default: those that reported).
    public var appliesTo: Set<RuleSubject> = [.reported]
    /// The work list a finding of this rule feeds (`omission`: the 应统尽统排查清单), if any.
    public var worklist: String?
    public var file: String
    public var location: SourceLocation
}

/// A set of rules loaded from YAML, with its includes resolved, its version and a SHA-256 of its files.
///
/// ```swift
/// let pack = try RulePack.load(path: "pipelines/rules/rd-catalogue.yaml")
/// print(pack.name, pack.version, pack.sha256, pack.rules.count)
/// ```
public struct RulePack: Sendable {
    public var name: String
    public var version: String
    /// Files read, the top pack first, then includes in the order met.
    public var files: [String]
    /// SHA-256 over every file's name and bytes in `files` order: the run manifest records it.
    public var sha256: String
    /// Pack-level parameters (shared by all rules; a rule's own `params` override them).
    public var params: [String: Constant]
    /// Named expressions (`derive:`), usable in any rule of the pack.
    public var derived: [String: LocatedText]
    public var rules: [RuleDefinition]

    public init(name: String, version: String, files: [String] = [], sha256: String = "",
                params: [String: Constant] = [:], derived: [String: LocatedText] = [:], rules: [RuleDefinition]) {
        self.name = name
        self.version = version
        self.files = files
        self.sha256 = sha256
        self.params = params
        self.derived = derived
        self.rules = rules
    }

    /// Loads a pack file and, recursively, the packs it `include`s (paths relative to the including file).
    public static func load(path: String) throws -> RulePack {
        var loader = Loader()
        let top = try loader.load(URL(fileURLWithPath: path).standardizedFileURL, base: nil)
        var pack = loader.merged
        pack.name = top.name
        pack.version = top.version
        pack.sha256 = sha256Hex(loader.hashInput)
        return pack
    }

    /// Parses one pack's text (no includes): for tests and packs held in memory.
    public static func parse(yaml: String, file: String = "<inline>") throws -> RulePack {
        var loader = Loader()
        let top = try loader.parse(yaml: yaml, file: file, url: nil)
        guard top.includes.isEmpty else {
            throw RuleError(code: "E-RULE-PACK", file: file, messageZh: "内存中的规则包不能 include 其他文件")
        }
        var pack = loader.merged
        pack.name = top.name
        pack.version = top.version
        pack.sha256 = sha256Hex(Array((file + "\n" + yaml).utf8))
        return pack
    }

    /// A copy whose pack-level parameters are replaced (a pipeline's `rules.params` override).
    public func overriding(params: [String: Constant]) -> RulePack {
        var p = self
        p.params.merge(params) { _, new in new }
        return p
    }
}

/// SHA-256 through OpenSSL's EVP interface (Package.swift explains why not swift-crypto).
func sha256Hex(_ bytes: [UInt8]) -> String {
    guard let ctx = EVP_MD_CTX_new() else { return "" }
    defer { EVP_MD_CTX_free(ctx) }
    var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var len: UInt32 = 0
    guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { return "" }
    _ = bytes.withUnsafeBufferPointer { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
    guard EVP_DigestFinal_ex(ctx, &out, &len) == 1 else { return "" }
    return out.prefix(Int(len)).map { String(format: "%02x", $0) }.joined()
}

private struct Loader {
    var merged = RulePack(name: "", version: "", rules: [])
    var hashInput: [UInt8] = []
    var visiting: [String] = []
    var done: Set<String> = []

    struct Header { var name: String; var version: String; var includes: [String] }

    mutating func load(_ url: URL, base: URL?) throws -> Header {
        let key = url.path
        if visiting.contains(key) {
            throw RuleError(code: "E-RULE-INCLUDE", file: key, messageZh: "规则包循环引用：\((visiting + [key]).joined(separator: " → "))")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RuleError(code: "E-RULE-PACK", file: key, messageZh: "无法读取规则文件：\(url.path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuleError(code: "E-RULE-PACK", file: key, messageZh: "规则文件不是 UTF-8 编码")
        }
        let shown = base.map { relativePath(url, from: $0) } ?? url.lastPathComponent
        hashInput += Array((shown + "\n").utf8) + [UInt8](data)
        merged.files.append(url.path)
        done.insert(key)
        visiting.append(key)
        defer { visiting.removeLast() }
        let header = try parse(yaml: text, file: url.path, url: url)
        for inc in header.includes {
            let child = URL(fileURLWithPath: inc, relativeTo: url.deletingLastPathComponent()).standardizedFileURL
            if done.contains(child.path) && !visiting.contains(child.path) { continue }   // a diamond: load once
            _ = try load(child, base: base ?? url.deletingLastPathComponent())
        }
        return header
    }

    func relativePath(_ url: URL, from dir: URL) -> String {
        let d = dir.standardizedFileURL.path
        let p = url.path
        return p.hasPrefix(d + "/") ? String(p.dropFirst(d.count + 1)) : p
    }

    mutating func parse(yaml: String, file: String, url: URL?) throws -> Header {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw RuleError(code: "E-RULE-YAML", file: file, messageZh: "YAML 语法错误：\(error)")
        }
        guard let root, let map = root.mapping else {
            throw RuleError(code: "E-RULE-PACK", file: file, messageZh: "规则包的顶层应为映射（pack、version、rules…）")
        }
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        func err(_ node: Node?, _ msg: String) -> RuleError {
            RuleError(code: "E-RULE-PACK", file: file,
                      location: node?.mark.map { SourceLocation(line: $0.line, column: $0.column) }, messageZh: msg)
        }
        func located(_ node: Node) -> LocatedText? {
            guard let s = node.scalar else { return nil }
            let m = s.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? SourceLocation(line: 1, column: 1)
            switch s.style {
            case .singleQuoted, .doubleQuoted:
                return LocatedText(s.string, file: file, location: SourceLocation(line: m.line, column: m.column + 1))
            case .literal, .folded:
                // The text starts on the next non-blank line, after the block's indentation.
                var l = m.line
                while l < lines.count, lines[l].allSatisfy({ $0 == " " }) { l += 1 }
                let indent = l < lines.count ? lines[l].prefix { $0 == " " }.count : 0
                return LocatedText(s.string, file: file, location: SourceLocation(line: l + 1, column: indent + 1), indent: indent)
            default:
                return LocatedText(s.string, file: file, location: m)
            }
        }
        func string(_ n: Node?) -> String? { n?.scalar?.string }

        var header = Header(name: string(map["pack"]) ?? (url?.deletingPathExtension().lastPathComponent ?? "inline"),
                            version: string(map["version"]) ?? "0", includes: [])
        let known: Set<String> = ["pack", "version", "description", "include", "params", "derive", "rules"]
        for (k, _) in map where !known.contains(k.string ?? "") {
            throw err(k, "规则包中未知的键 \(k.string ?? "?")" + didYouMean(k.string ?? "", among: Array(known)))
        }
        if let inc = map["include"] {
            guard let seq = inc.sequence else { throw err(inc, "include 应为文件列表") }
            header.includes = seq.compactMap(\.scalar?.string)
        }
        if let p = map["params"] {
            for (k, v) in try params(p, err) {
                if merged.params[k] != nil && merged.params[k] != v {
                    throw err(p, "参数 \(k) 在两个规则包中取值不同")
                }
                merged.params[k] = v
            }
        }
        if let d = map["derive"] {
            guard let dm = d.mapping else { throw err(d, "derive 应为 名称: 表达式 的映射") }
            for (k, v) in dm {
                guard let name = k.string, let lt = located(v) else { throw err(k, "derive 的每一项应为 名称: 表达式") }
                if merged.derived[name] != nil { throw err(k, "派生量 \(name) 重复定义") }
                merged.derived[name] = lt
            }
        }
        if let r = map["rules"] {
            guard let seq = r.sequence else { throw err(r, "rules 应为规则列表") }
            for node in seq { merged.rules.append(try rule(node, file: file, err: err, located: located)) }
        }
        return header
    }

    func params(_ node: Node, _ err: (Node?, String) -> RuleError) throws -> [String: Constant] {
        guard let m = node.mapping else { throw err(node, "params 应为 名称: 值 的映射") }
        var out: [String: Constant] = [:]
        for (k, v) in m {
            guard let name = k.string else { continue }
            out[name] = try constant(v, err)
        }
        return out
    }

    func constant(_ v: Node, _ err: (Node?, String) -> RuleError) throws -> Constant {
        if let s = v.scalar {
            if s.style == .plain, let d = Dec(s.string) { return .number(d) }
            if s.style == .plain, s.string == "true" || s.string == "false" { return .bool(s.string == "true") }
            return .text(s.string)
        }
        if let seq = v.sequence {
            let items = seq.compactMap { $0.scalar }
            if !items.isEmpty, items.allSatisfy({ $0.style == .plain && Dec($0.string) != nil }) {
                return .numberList(items.compactMap { Dec($0.string) })
            }
            return .textList(items.map(\.string))
        }
        throw err(v, "参数值应为数字、文本或列表")
    }

    func rule(_ node: Node, file: String, err: (Node?, String) -> RuleError,
              located: (Node) -> LocatedText?) throws -> RuleDefinition {
        guard let m = node.mapping else { throw err(node, "每条规则应为映射") }
        let loc = node.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? SourceLocation(line: 1, column: 1)
        let known: Set<String> = ["id", "name_zh", "name_en", "severity", "level", "scope", "when", "check", "fields",
                                  "tolerance", "params", "on_missing", "message_zh", "message_en", "since", "until",
                                  "ref", "each_field", "group_by", "note", "applies_to", "worklist"]
        for (k, _) in m where !known.contains(k.string ?? "") {
            throw err(k, "规则中未知的键 \(k.string ?? "?")" + didYouMean(k.string ?? "", among: Array(known)))
        }
        guard let id = m["id"]?.string, !id.isEmpty else { throw err(node, "规则缺少 id") }
        func e(_ n: Node?, _ msg: String) -> RuleError { var x = err(n ?? node, msg); x.ruleID = id; return x }
        guard let sevText = m["severity"]?.string else { throw e(node, "缺少 severity（error、warning 或 info）") }
        let severity: Severity
        switch sevText {
        case "error", "hard", "强制性": severity = .error
        case "warning", "soft", "核实性": severity = .warning
        case "info", "提示": severity = .info
        default: throw e(m["severity"], "severity 应为 error（强制性）、warning（核实性）或 info，而不是 \(sevText)")
        }
        guard let levelText = m["level"]?.string, let level = Int(levelText), (0...5).contains(level) else {
            throw e(m["level"], "level 应为 0–5 的整数（ESS 审核层级：0 格式，1 本表内，2 本源他期，3 同领域他源，4 他领域，5 他机构）")
        }
        guard let checkNode = m["check"], let check = located(checkNode) else { throw e(node, "缺少 check 表达式") }
        let when = m["when"].flatMap(located)
        var scope: RowScope?
        if let s = m["scope"]?.string {
            guard let sc = RowScope(rawValue: s) else { throw e(m["scope"], "scope 应为 enterprise 或 project") }
            scope = sc
        }
        let fields = m["fields"]?.sequence?.compactMap(\.scalar?.string) ?? []
        var onMissing = OnMissing.skip
        if let om = m["on_missing"]?.string {
            guard let o = OnMissing(rawValue: om) else { throw e(m["on_missing"], "on_missing 应为 skip、fail 或 zero") }
            onMissing = o
        }
        guard let msg = m["message_zh"]?.string else { throw e(node, "缺少 message_zh（中文提示）") }
        var each: EachField?
        if let ef = m["each_field"] {
            guard let em = ef.mapping else { throw e(ef, "each_field 应为 {forms: […], types: […]}") }
            var forms: [Form] = []
            for f in em["forms"]?.sequence?.compactMap(\.scalar?.string) ?? [] {
                guard let form = Form(rawValue: f) else { throw e(ef, "each_field 中未知的表式 \(f)") }
                forms.append(form)
            }
            var types: [FieldType] = []
            for t in em["types"]?.sequence?.compactMap(\.scalar?.string) ?? [] {
                guard let type = FieldType(rawValue: t) else { throw e(ef, "each_field 中未知的字段类型 \(t)") }
                types.append(type)
            }
            each = EachField(forms: forms, types: types)
        }
        func year(_ k: String) throws -> Int? {
            guard let s = m[k]?.string else { return nil }
            guard let y = Int(s), (1990...2100).contains(y) else { throw e(m[k], "\(k) 应为报告年份，如 2021") }
            return y
        }
        var ruleParams: [String: Constant] = [:]
        if let p = m["params"] { ruleParams = try params(p, err) }
        var appliesTo: Set<RuleSubject> = [.reported]
        if let a = m["applies_to"] {
            let names = a.sequence?.compactMap(\.scalar?.string) ?? a.string.map { [$0] } ?? []
            appliesTo = []
            for n in names {
                guard let s = RuleSubject(rawValue: n) else {
                    throw e(a, "applies_to 应为 reported（已报送）和/或 unreported（名录或名单中有而未报送），而不是 \(n)")
                }
                appliesTo.insert(s)
            }
            if appliesTo.isEmpty { throw e(a, "applies_to 不能为空") }
        }
        let worklist = m["worklist"]?.string
        if let w = worklist, w != "omission" { throw e(m["worklist"], "worklist 目前只有 omission（应统尽统排查清单）") }
        var rule = RuleDefinition(
            id: id, nameZh: m["name_zh"]?.string, severity: severity, level: level, scope: scope, when: when,
            check: check, fields: fields, tolerance: m["tolerance"]?.string,
            params: ruleParams,
            onMissing: onMissing, messageZh: msg, messageEn: m["message_en"]?.string,
            since: try year("since"), until: try year("until"), ref: m["ref"]?.string, eachField: each,
            groupBy: m["group_by"]?.sequence?.compactMap(\.scalar?.string), file: file, location: loc)
        rule.appliesTo = appliesTo
        rule.worklist = worklist
        if rule.groupBy != nil && appliesTo.contains(.unreported) {
            throw e(m["applies_to"], "分组规则不能用于未报送单位（applies_to: unreported）")
        }
        return rule
    }
}
