import Foundation
import YingtongModel

/// A problem found in a rule pack before any data is read.
public struct LintFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Level: String, Sendable { case error, warning }
    /// Stable code: `E-RULE-FIELD`, `L-WHEN-NEVER`, `L-BALANCE-CONFLICT`…
    public var code: String
    public var level: Level
    public var ruleID: String?
    public var file: String?
    public var location: SourceLocation?
    public var messageZh: String

    public var description: String {
        RuleError(code: code, file: file, location: location, ruleID: ruleID, messageZh: messageZh).description
    }
}

/// Checks a pack without data: every rule is parsed and type-checked (all mistakes, not only the first),
/// duplicate ids, guards that can never hold, constant checks, parameters that shadow fields, and balance
/// rules that contradict each other or the dictionary's component relations.
///
/// ```swift
/// for finding in Lint.run(pack) { print(finding) }   // rd-catalogue.yaml:42:12: 规则 R102：…
/// ```
public enum Lint {
    public static func run(_ pack: RulePack, dictionary: FieldDictionary = .standard) -> [LintFinding] {
        var out: [LintFinding] = []
        func add(_ e: RuleError, _ level: LintFinding.Level = .error) {
            out.append(LintFinding(code: e.code, level: level, ruleID: e.ruleID, file: e.file, location: e.location, messageZh: e.messageZh))
        }
        let rc: RuleCompiler
        do { rc = try RuleCompiler(pack: pack, dictionary: dictionary) } catch {
            add(asRuleError(error))
            return out
        }
        for (name, _) in pack.params where dictionary.field(name) != nil {
            out.append(LintFinding(code: "L-PARAM-SHADOWS", level: .warning, ruleID: nil, file: pack.files.first, location: nil,
                                   messageZh: "参数 \(name) 与字段同名：规则中的 \(name) 将指参数而非字段"))
        }
        for (name, text) in pack.derived where dictionary.field(name) != nil {
            out.append(LintFinding(code: "L-DERIVE-SHADOWS", level: .warning, ruleID: nil, file: text.file, location: text.location,
                                   messageZh: "派生量 \(name) 与字段同名：规则中的 \(name) 将指派生量而非字段"))
        }
        var seen: [String: RuleDefinition] = [:]
        var balances: [(rule: RuleDefinition, total: String, parts: Set<String>)] = []
        for rule in pack.rules {
            if let first = seen[rule.id] {
                add(RuleError(code: "E-RULE-DUPLICATE", file: rule.file, location: rule.location, ruleID: rule.id,
                              messageZh: "规则编号 \(rule.id) 重复（首次出现于 \(first.file):\(first.location.line)）"))
                continue
            }
            seen[rule.id] = rule
            for (name, _) in rule.params where dictionary.field(name) != nil {
                add(RuleError(code: "L-PARAM-SHADOWS", file: rule.file, location: rule.location, ruleID: rule.id,
                              messageZh: "参数 \(name) 与字段同名：规则中的 \(name) 将指参数而非字段"), .warning)
            }
            do { _ = try rc.compile(rule) } catch {
                add(asRuleError(error))
                continue
            }
            guard rule.groupBy == nil, rule.eachField == nil else { continue }
            // Re-type the guard and check for folding and balance analysis (compile succeeded, so these do too).
            let env = rc.env(rule)
            guard let checkSyntax = try? rule.check.parse() else { continue }
            let probe = TypeChecker(dictionary: dictionary, env: env, scope: .enterprise)
            let scope = rule.scope ?? (probe.readsProjectFieldsDirectly(checkSyntax) ? .project : .enterprise)
            let tc = TypeChecker(dictionary: dictionary, env: env, scope: scope)
            if let w = rule.when, let ws = try? w.parse(), let wt = try? tc.check(ws, expect: .bool),
               case .constant(.bool(let v)) = Compiler.simplify(wt), v != true {
                add(RuleError(code: "L-WHEN-NEVER", file: w.file, location: w.location, ruleID: rule.id,
                              messageZh: v == false ? "when 条件化简后恒为假：规则永远不会适用" : "when 条件化简后恒为空（null）：规则永远不会适用"), .warning)
            }
            if let ct = try? tc.check(checkSyntax, expect: .bool) {
                if case .constant(.bool(let v)) = Compiler.simplify(ct) {
                    add(RuleError(code: "L-CHECK-CONSTANT", file: rule.check.file, location: rule.check.location, ruleID: rule.id,
                                  messageZh: "check 化简后恒为\(v.map { $0 ? "真：规则永远通过" : "假：每条记录都会报错" } ?? "空：规则永远无法判定")"), .warning)
                }
                if case .compare(.eq, let l, let r) = ct, case .field(let total) = l, let parts = sumOfFields(r) {
                    balances.append((rule, total.code, parts))
                } else if case .compare(.eq, let l, let r) = ct, case .field(let total) = r, let parts = sumOfFields(l) {
                    balances.append((rule, total.code, parts))
                }
            }
        }
        out += balanceFindings(balances, dictionary)
        return out
    }

    /// `a + b + c` over plain fields → {a, b, c}; nil for anything else.
    static func sumOfFields(_ t: Typed) -> Set<String>? {
        switch t {
        case .field(let f): return [f.code]
        case .arith(.add, let a, let b):
            guard let x = sumOfFields(a), let y = sumOfFields(b) else { return nil }
            return x.union(y)
        default: return nil
        }
    }

    /// Two balance rules on one total contradict each other when one's parts are a strict subset of the
    /// other's: `T = A + B` and `T = A + B + C` can both hold only if C = 0 — that is a mistake in the
    /// catalogue, not a finding about data. Two different breakdowns (uses vs sources of funds, R102 vs R205)
    /// are legitimate. Likewise a rule that decomposes a total with some of the dictionary's components
    /// (fields.yaml `relation: component`) but not exactly them disagrees with what the indicators assume.
    static func balanceFindings(_ balances: [(rule: RuleDefinition, total: String, parts: Set<String>)],
                                _ dictionary: FieldDictionary) -> [LintFinding] {
        var out: [LintFinding] = []
        for (i, a) in balances.enumerated() {
            for b in balances[(i + 1)...] where a.total == b.total && a.parts != b.parts {
                let (small, large) = a.parts.count < b.parts.count ? (a, b) : (b, a)
                guard small.parts.isSubset(of: large.parts) else { continue }
                let forced = large.parts.subtracting(small.parts).sorted()
                out.append(LintFinding(
                    code: "L-BALANCE-CONFLICT", level: .warning, ruleID: b.rule.id, file: b.rule.file, location: b.rule.location,
                    messageZh: "\(small.rule.id) 与 \(large.rule.id) 对 \(a.total) 给出互相包含的分项：两者同时成立要求 "
                        + forced.joined(separator: "+") + " = 0，请合并为一条规则"))
            }
            let components = Set(dictionary.children(of: a.total).filter { $0.relation == .component }.map(\.code))
            if !components.isEmpty && !components.isDisjoint(with: a.parts) && components != a.parts {
                let missing = components.subtracting(a.parts).sorted(), extra = a.parts.subtracting(components).sorted()
                var why: [String] = []
                if !missing.isEmpty { why.append("缺少 " + missing.joined(separator: "、")) }
                if !extra.isEmpty { why.append("多出 " + extra.joined(separator: "、")) }
                out.append(LintFinding(
                    code: "L-BALANCE-DICTIONARY", level: .warning, ruleID: a.rule.id, file: a.rule.file, location: a.rule.location,
                    messageZh: "\(a.rule.id) 的分项与字段字典中 \(a.total) 的构成关系不一致（\(why.joined(separator: "；"))）"))
            }
        }
        return out
    }
}
