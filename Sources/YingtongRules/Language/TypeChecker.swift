import Foundation
import YingtongModel

/// Names an expression may use besides dictionary fields.
struct NameEnvironment {
    /// Rule and pack parameters (constants).
    var params: [String: Constant] = [:]
    /// Named expressions of the pack (`derive:`), e.g. `fte: sum(projects.person_months) / 12`.
    var derived: [String: Syntax] = [:]
    /// Names bound by the engine for one expansion (`it`, `it_type` in `each_field` rules).
    var aliases: [String: Typed] = [:]
}

/// Checks an expression against the field dictionary and gives it types; reports the first mistake with its
/// location and, for an unknown name, the closest known one.
final class TypeChecker {
    let dictionary: FieldDictionary
    let registries: RegistryCatalog = .standard
    let env: NameEnvironment
    var scope: RowScope
    /// Group rules: key names → position; aggregates found so far become slots.
    var groupKeys: [String: (Int, ValueType)]?
    var groupSlots: [(Aggregate, Typed?)] = []
    private var insideGroupAggregate = false
    private var derivedStack: [String] = []

    static let aggregateNames: Set<String> = ["sum", "count", "min", "max", "any", "all"]
    static let bindingNames: Set<String> = ["prev", "listed", "lookup"]
    /// `lookup(registry, rows)`: how many of the registry's rows match the enterprise.
    public static let registryRowCount = "rows"

    func registry(_ name: String, at loc: SourceLocation) throws -> Registry {
        guard let r = registries.registry(name) else {
            throw fail("E-RULE-REGISTRY", loc, "未知的名单 \(name)" + didYouMean(name, among: registries.registries.map(\.name)))
        }
        return r
    }

    init(dictionary: FieldDictionary, env: NameEnvironment, scope: RowScope) {
        self.dictionary = dictionary
        self.env = env
        self.scope = scope
    }

    func fail(_ code: String, _ loc: SourceLocation, _ msg: String) -> RuleError {
        RuleError(code: code, location: loc, messageZh: msg)
    }

    // MARK: scope inference

    /// Whether the expression reads a 107-1 field outside a `projects` aggregate: then it is a project rule.
    func readsProjectFieldsDirectly(_ s: Syntax) -> Bool {
        switch s {
        case .name(let n, _):
            if env.aliases[n] != nil || env.params[n] != nil { return false }
            if let d = env.derived[n] {
                // A derived value that names itself (directly, or as a registry field inside lookup) is reported by
                // the type check; here it must only not recurse forever.
                guard !derivedStack.contains(n) else { return false }
                derivedStack.append(n)
                defer { derivedStack.removeLast() }
                return readsProjectFieldsDirectly(d)
            }
            return dictionary.field(n)?.form == .projects
        case .call(let f, let args, _):
            if Self.aggregateNames.contains(f), let first = args.first, isProjectsRef(first) { return false }
            return args.contains(where: readsProjectFieldsDirectly)
        case .member(let b, _, _): return isProjectsRef(b) ? false : readsProjectFieldsDirectly(b)
        case .negate(let a, _), .not(let a, _): return readsProjectFieldsDirectly(a)
        case .binary(_, let a, let b, _), .inList(let a, let b, _, _):
            return readsProjectFieldsDirectly(a) || readsProjectFieldsDirectly(b)
        case .list(let l, _): return l.contains(where: readsProjectFieldsDirectly)
        case .ifThen(let c, let t, let e, _):
            return readsProjectFieldsDirectly(c) || readsProjectFieldsDirectly(t) || (e.map(readsProjectFieldsDirectly) ?? false)
        case .number, .string, .bool, .null: return false
        }
    }

    func isProjectsRef(_ s: Syntax) -> Bool {
        switch s {
        case .name("projects", _): true
        case .member(.name("projects", _), _, _): true
        default: false
        }
    }

    // MARK: checking

    func check(_ s: Syntax, expect: ValueType? = nil) throws -> Typed {
        let t = try infer(s)
        if let expect, t.type != expect, !t.isNullConstant {
            throw fail("E-RULE-TYPE", s.location, "此处应为\(expect.zh)，而表达式的类型是\(t.type.zh)")
        }
        return t
    }

    func infer(_ s: Syntax) throws -> Typed {
        switch s {
        case .number(let d, _): return .constant(.number(d))
        case .string(let v, _): return .constant(.text(v))
        case .bool(let b, _): return .constant(.bool(b))
        case .null: return .constant(.number(nil))
        case .name(let n, let loc): return try resolve(n, loc)
        case .member(let base, let f, let loc):
            if isProjectsRef(base) {
                throw fail("E-RULE-SCOPE", loc, "projects.\(f) 是项目的一列，须放在聚合函数中使用，如 sum(projects.\(f))")
            }
            throw fail("E-RULE-PARSE", loc, "只有 projects 可以用 . 取字段")
        case .negate(let a, _):
            return .negate(try check(a, expect: .number))
        case .not(let a, _):
            return .not(try check(a, expect: .bool))
        case .binary(let op, let a, let b, let loc):
            let l = try infer(a), r = try infer(b)
            switch op {
            case .and, .or:
                try require(l, .bool, a.location, "\(op.rawValue) 的左边")
                try require(r, .bool, b.location, "\(op.rawValue) 的右边")
                return op == .and ? .and(l, r) : .or(l, r)
            case .add, .sub, .mul, .div:
                try require(l, .number, a.location, "\(op.rawValue) 的左边")
                try require(r, .number, b.location, "\(op.rawValue) 的右边")
                return .arith(op, l, r)
            case .eq, .ne, .lt, .le, .gt, .ge:
                let lt = l.isNullConstant ? r.type : l.type, rt = r.isNullConstant ? l.type : r.type
                if l.isNullConstant || r.isNullConstant {
                    throw fail("E-RULE-TYPE", loc, "与 null 比较的结果总是“无法判定”：请用 is_null(…)")
                }
                guard lt == rt else {
                    throw fail("E-RULE-TYPE", loc, "不能比较\(lt.zh)与\(rt.zh)（\(op.rawValue) 两边类型不同）")
                }
                if lt == .textList || lt == .numberList {
                    throw fail("E-RULE-TYPE", loc, "列表不能直接比较：请用 in")
                }
                if lt != .number && op != .eq && op != .ne {
                    throw fail("E-RULE-TYPE", loc, "\(lt.zh)只能比较相等（== 或 !=），不能用 \(op.rawValue)")
                }
                return .compare(op, l, r)
            }
        case .inList(let a, let listSyntax, let negated, let loc):
            let x = try infer(a)
            guard x.type == .number || x.type == .text else {
                throw fail("E-RULE-TYPE", a.location, "in 的左边应为数值或文本，而不是\(x.type.zh)")
            }
            switch listSyntax {
            case .list(let items, _):
                var out: [Typed] = []
                for item in items {
                    let t = try infer(item)
                    if t.type != x.type && !t.isNullConstant {
                        throw fail("E-RULE-TYPE", item.location, "列表元素是\(t.type.zh)，而 in 左边是\(x.type.zh)")
                    }
                    out.append(t)
                }
                return .inList(x, out, negated: negated)
            default:
                let l = try infer(listSyntax)
                let want: ValueType = x.type == .number ? .numberList : .textList
                guard l.type == want, case .constant(let c) = l else {
                    throw fail("E-RULE-TYPE", loc, "in 的右边应为\(want.zh)（[…] 或列表参数），而不是\(l.type.zh)")
                }
                switch c {
                case .textList(let v): return .inList(x, v.map { .constant(.text($0)) }, negated: negated)
                case .numberList(let v): return .inList(x, v.map { .constant(.number($0)) }, negated: negated)
                default: throw fail("E-RULE-TYPE", loc, "in 的右边应为列表")
                }
            }
        case .list(_, let loc):
            throw fail("E-RULE-TYPE", loc, "列表 […] 只能出现在 in 之后")
        case .ifThen(let c, let a, let b, let loc):
            let ct = try check(c, expect: .bool)
            let at = try infer(a)
            var bt: Typed?
            if let b { bt = try infer(b) }
            var type = at.type
            if let bt {
                if at.isNullConstant { type = bt.type } else if !bt.isNullConstant && bt.type != at.type {
                    throw fail("E-RULE-TYPE", loc, "then 分支是\(at.type.zh)，else 分支是\(bt.type.zh)：两者须同类型")
                }
            }
            return .ifThen(ct, at, bt, type)
        case .call(let name, let args, let loc):
            return try call(name, args, loc)
        }
    }

    func require(_ t: Typed, _ type: ValueType, _ loc: SourceLocation, _ what: String) throws {
        if t.type != type && !t.isNullConstant {
            throw fail("E-RULE-TYPE", loc, "\(what)应为\(type.zh)，而不是\(t.type.zh)")
        }
    }

    func resolve(_ n: String, _ loc: SourceLocation) throws -> Typed {
        if let a = env.aliases[n] { return a }
        if let p = env.params[n] { return .constant(p) }
        if let k = groupKeys?[n] { return .groupKey(k.0, k.1) }
        if let d = env.derived[n] {
            if derivedStack.contains(n) {
                throw fail("E-RULE-DERIVE", loc, "派生量 \(n) 引用了自身（\((derivedStack + [n]).joined(separator: " → "))）")
            }
            derivedStack.append(n)
            defer { derivedStack.removeLast() }
            return try infer(d)
        }
        if n == "projects" {
            throw fail("E-RULE-SCOPE", loc, "projects 是项目集合，只能用于聚合：count(projects)、sum(projects.exp)、any(projects, …)")
        }
        guard let f = dictionary.field(n) else {
            throw fail("E-RULE-FIELD", loc, "未知的名称 \(n)" + didYouMean(n, among: knownNames))
        }
        if groupKeys != nil && !insideGroupAggregate {
            throw fail("E-RULE-SCOPE", loc, "分组规则中字段 \(n) 须放在聚合中（count()、sum(\(n))…）或列入 group_by")
        }
        switch f.form {
        case nil, .activity?: break
        case .projects?:
            if scope != .project {
                throw fail("E-RULE-SCOPE", loc, "\(n)（\(f.name)）是107-1项目字段：请用 sum(projects.\(n)) 等聚合，或将规则设为 scope: project")
            }
        case let other?:
            let via = registries.registries(of: other).first?.name ?? other.rawValue
            throw fail("E-RULE-SCOPE", loc, "\(n)（\(f.name)）不在企业报表中：请用 lookup(\(via), \(n))")
        }
        return .field(f)
    }

    var knownNames: [String] {
        var names = (dictionary.identity + dictionary.fields).filter { $0.form == nil || $0.form!.isSubmission }.map(\.code)
        names += env.params.keys
        names += env.derived.keys
        names += env.aliases.keys
        return names
    }

    func call(_ name: String, _ args: [Syntax], _ loc: SourceLocation) throws -> Typed {
        // Aggregates over projects: sum(projects.exp), count(projects), any(projects, cond)…
        if Self.aggregateNames.contains(name), let first = args.first, isProjectsRef(first) {
            guard let agg = Aggregate(rawValue: name) else { throw fail("E-RULE-FUNC", loc, "未知聚合 \(name)") }
            guard scope == .enterprise, groupKeys == nil else {
                throw fail("E-RULE-SCOPE", loc, "\(name)(projects…) 只能用于企业（107-2）规则")
            }
            var innerSyntax: Syntax?
            if case .member(_, let f, let mloc) = first {
                guard args.count == 1 else { throw fail("E-RULE-ARITY", loc, "\(name)(projects.\(f)) 只有一个参数") }
                innerSyntax = .name(f, mloc)
            } else if args.count == 2 {
                innerSyntax = args[1]
            } else if args.count > 2 {
                throw fail("E-RULE-ARITY", loc, "\(name)(projects, 表达式) 最多两个参数")
            }
            let saved = scope
            scope = .project
            defer { scope = saved }
            switch agg {
            case .count:
                var inner: Typed?
                if let innerSyntax { inner = try check(innerSyntax, expect: .bool) }
                return .projects(.count, inner)
            case .any, .all:
                guard let innerSyntax else { throw fail("E-RULE-ARITY", loc, "\(name) 需要条件：\(name)(projects, 条件)") }
                return .projects(agg, try check(innerSyntax, expect: .bool))
            case .sum, .min, .max:
                guard let innerSyntax else { throw fail("E-RULE-ARITY", loc, "\(name) 需要项目字段：\(name)(projects.exp)") }
                return .projects(agg, try check(innerSyntax, expect: .number))
            }
        }
        // Group aggregates: count(), sum(x), min(x), max(x), any(c), all(c) in group rules.
        if let keys = groupKeys, Self.aggregateNames.contains(name), !insideGroupAggregate,
           args.count <= 1, name == "count" || args.count == 1 {
            _ = keys
            let agg = Aggregate(rawValue: name)!
            insideGroupAggregate = true
            defer { insideGroupAggregate = false }
            var inner: Typed?
            if let a = args.first {
                inner = try check(a, expect: (agg == .any || agg == .all || agg == .count) ? .bool : .number)
            } else if agg != .count {
                throw fail("E-RULE-ARITY", loc, "\(name)() 需要一个参数")
            }
            groupSlots.append((agg, inner))
            return .group(agg, inner, slot: groupSlots.count - 1)
        }
        if name == "count" || name == "any" || name == "all" {
            throw fail("E-RULE-FUNC", loc, "\(name) 只用于 projects 或分组规则：\(name)(projects…)")
        }
        switch name {
        case "prev":
            guard args.count == 1, case .name(let f, let floc) = args[0] else {
                throw fail("E-RULE-ARITY", loc, "prev 需要一个字段名：prev(rd_exp_total)")
            }
            guard let fd = dictionary.field(f) else {
                throw fail("E-RULE-FIELD", floc, "未知的字段 \(f)" + didYouMean(f, among: knownNames))
            }
            guard fd.type.isNumeric, fd.form == .activity else {
                throw fail("E-RULE-TYPE", floc, "prev 只取107-2的数值字段，\(f) 不是")
            }
            return .prev(fd)
        case "listed":
            guard args.count == 1, let r = registryName(args[0]) else {
                throw fail("E-RULE-ARITY", loc, "listed 需要一个名单名：listed(hte)")
            }
            _ = try registry(r, at: args[0].location)
            return .listed(r)
        case "lookup":
            guard args.count == 2, let r = registryName(args[0]), let f = registryName(args[1]) else {
                throw fail("E-RULE-ARITY", loc, "lookup 需要名单名和字段名：lookup(roster, revenue)")
            }
            let reg = try registry(r, at: args[0].location)
            // `rows` counts the matching rows; any other name must be a numeric field of the registry's source.
            let numeric = reg.lookupFields(dictionary)
            if f != Self.registryRowCount, !numeric.contains(f) {
                throw fail("E-RULE-FIELD", args[1].location, "名单 \(r)（\(reg.titleZh)）没有数值字段 \(f)"
                           + didYouMean(f, among: numeric + [Self.registryRowCount]))
            }
            return .lookup(r, f)
        default: break
        }
        guard let b = Builtin(rawValue: name) else {
            let names = Builtin.allCases.map(\.rawValue) + ["count", "any", "all", "prev", "listed", "lookup"]
            throw fail("E-RULE-FUNC", loc, "未知的函数 \(name)" + didYouMean(name, among: names))
        }
        var typed: [Typed] = []
        for a in args { typed.append(try infer(a)) }
        func arity(_ r: ClosedRange<Int>) throws {
            guard r.contains(args.count) else {
                let want = r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound)–\(r.upperBound)"
                throw fail("E-RULE-ARITY", loc, "\(name) 需要 \(want) 个参数，给了 \(args.count) 个")
            }
        }
        func arg(_ i: Int, _ t: ValueType) throws {
            try require(typed[i], t, args[i].location, "\(name) 的第 \(i + 1) 个参数")
        }
        switch b {
        case .abs, .is_integral: try arity(1...1); try arg(0, .number)
        case .round:
            try arity(1...2); try arg(0, .number)
            if args.count == 2 {
                guard case .constant(.number(let d?)) = typed[1], d.isIntegral, d >= .zero, d <= Dec(units: 12) else {
                    throw fail("E-RULE-TYPE", args[1].location, "round 的小数位数应为 0–12 的整数常量")
                }
            }
        case .min, .max, .sum:
            try arity(1...64)
            for i in args.indices { try arg(i, .number) }
        case .is_null: try arity(1...1)
        case .coalesce:
            try arity(1...64)
            let t = typed.first(where: { !$0.isNullConstant })?.type ?? .number
            for i in args.indices { try arg(i, t) }
        case .matches:
            try arity(2...2); try arg(0, .text)
            guard case .constant(.text(let pattern?)) = typed[1] else {
                throw fail("E-RULE-TYPE", args[1].location, "matches 的第二个参数应为正则表达式字符串常量")
            }
            do { _ = try NSRegularExpression(pattern: pattern) } catch {
                throw fail("E-RULE-REGEX", args[1].location, "正则表达式无效：\(pattern)")
            }
        case .len, .number, .latin_run, .uscc_valid, .org_code_valid, .region_valid, .industry_valid:
            try arity(1...1); try arg(0, .text)
        case .contains:
            try arity(2...2); try arg(0, .text)
            guard typed[1].type == .text || typed[1].type == .textList else {
                throw fail("E-RULE-TYPE", args[1].location, "contains 的第二个参数应为文本或文本列表")
            }
        case .months_between:
            try arity(2...2)
            for i in 0..<2 where typed[i].type != .text && typed[i].type != .number {
                throw fail("E-RULE-TYPE", args[i].location, "months_between 的参数应为 YYYYMM 日期（文本或数值）")
            }
        case .substr:
            try arity(3...3); try arg(0, .text); try arg(1, .number); try arg(2, .number)
        }
        return .call(b, typed)
    }

    func registryName(_ s: Syntax) -> String? {
        switch s {
        case .name(let n, _): n
        case .string(let n, _): n
        default: nil
        }
    }
}

/// `（您是否想写 rd_exp_total？）` when a known name is within a small edit distance.
func didYouMean(_ name: String, among candidates: [String]) -> String {
    guard let best = closest(name, among: candidates) else { return "" }
    return "（您是否想写 \(best)？）"
}

func closest(_ name: String, among candidates: [String]) -> String? {
    let limit = max(2, name.count / 3)
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(name.lowercased(), c.lowercased())
        if d <= limit, best.map({ d < $0.1 || (d == $0.1 && c < $0.0) }) ?? true { best = (c, d) }
    }
    return best?.0
}

/// Levenshtein distance over Unicode scalars (two rows of the table are enough).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}
