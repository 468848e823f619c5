import Foundation
import YingtongModel

/// The language's value types. Every field of the dictionary maps to one of them: count, money, quantity and
/// ratio fields are `number`; code, text and date fields are `text`; flags are `bool`.
public enum ValueType: String, Sendable, Hashable {
    case number, bool, text
    /// A list parameter (a keyword list, a list of codes); only `in` and `contains` take it.
    case textList = "text list"
    case numberList = "number list"

    var zh: String {
        switch self {
        case .number: "数值"
        case .bool: "逻辑值"
        case .text: "文本"
        case .textList: "文本列表"
        case .numberList: "数值列表"
        }
    }

    static func of(_ f: FieldDefinition) -> ValueType {
        if f.type.isNumeric || f.type == .period { return .number }
        if f.type == .flag { return .bool }
        return .text
    }
}

/// A constant, possibly null. Folding, parameters and literals all produce these.
public enum Constant: Sendable, Hashable {
    case number(Dec?)
    case bool(Bool?)
    case text(String?)
    case textList([String])
    case numberList([Dec])

    var type: ValueType {
        switch self {
        case .number: .number
        case .bool: .bool
        case .text: .text
        case .textList: .textList
        case .numberList: .numberList
        }
    }

    var isNull: Bool {
        switch self {
        case .number(let v): v == nil
        case .bool(let v): v == nil
        case .text(let v): v == nil
        default: false
        }
    }

    var display: String {
        switch self {
        case .number(let v): v?.description ?? "空"
        case .bool(let v): v.map { $0 ? "是" : "否" } ?? "空"
        case .text(let v): v ?? "空"
        case .textList(let l): "[" + l.joined(separator: "、") + "]"
        case .numberList(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// Aggregates over a set of rows: an enterprise's projects, or the records of one group.
public enum Aggregate: String, Sendable {
    case sum, count, min, max, any, all
}

/// Which rows a check runs over.
public enum RowScope: String, Sendable {
    /// One 107-2 record per enterprise and year.
    case enterprise
    /// One 107-1 project row; the enterprise's 107-2 fields are visible as well.
    case project
}

/// Built-in scalar functions (aggregates and bindings have their own nodes).
public enum Builtin: String, Sendable, CaseIterable {
    case abs, round, min, max, sum, is_null, coalesce, matches, len, contains, uscc_valid, org_code_valid,
         region_valid, industry_valid, months_between, number, substr, is_integral, latin_run
}

/// A type-checked expression: what the compiler turns into column kernels.
public indirect enum Typed: Sendable {
    case constant(Constant)
    case field(FieldDefinition)
    case negate(Typed)
    case arith(BinaryOperator, Typed, Typed)
    case compare(BinaryOperator, Typed, Typed)
    case and(Typed, Typed)
    case or(Typed, Typed)
    case not(Typed)
    case inList(Typed, [Typed], negated: Bool)
    case call(Builtin, [Typed])
    case ifThen(Typed, Typed, Typed?, ValueType)
    /// An aggregate over the enterprise's projects; the inner expression is typed in project scope.
    case projects(Aggregate, Typed?)
    case prev(FieldDefinition)
    case listed(String)
    case lookup(String, String)
    /// A group aggregate (group rules only); slot numbers the accumulators of the rule.
    case group(Aggregate, Typed?, slot: Int)
    /// A group key's value (group rules only).
    case groupKey(Int, ValueType)

    public var type: ValueType {
        switch self {
        case .constant(let c): c.type
        case .field(let f): ValueType.of(f)
        case .negate, .arith: .number
        case .compare, .and, .or, .not, .inList, .listed: .bool
        case .call(let b, let args):
            switch b {
            case .abs, .round, .min, .max, .sum, .len, .months_between, .number, .latin_run: .number
            case .is_null, .matches, .contains, .uscc_valid, .org_code_valid, .region_valid, .industry_valid,
                 .is_integral: .bool
            case .substr: .text
            case .coalesce: args.first(where: { !$0.isNullConstant })?.type ?? args.first?.type ?? .number
            }
        case .ifThen(_, _, _, let t): t
        case .projects(let a, _), .group(let a, _, _): (a == .any || a == .all) ? .bool : .number
        case .prev, .lookup: .number
        case .groupKey(_, let t): t
        }
    }

    var isNullConstant: Bool { if case .constant(let c) = self { return c.isNull } else { return false } }

    /// No field, aggregate or binding below: the value is the same for every row, so it can be folded.
    var isConstant: Bool {
        switch self {
        case .constant: true
        case .field, .projects, .prev, .listed, .lookup, .group, .groupKey: false
        case .negate(let a), .not(let a): a.isConstant
        case .arith(_, let a, let b), .compare(_, let a, let b), .and(let a, let b), .or(let a, let b):
            a.isConstant && b.isConstant
        case .inList(let a, let l, _): a.isConstant && l.allSatisfy(\.isConstant)
        case .call(_, let args): args.allSatisfy(\.isConstant)
        case .ifThen(let c, let t, let e, _): c.isConstant && t.isConstant && (e?.isConstant ?? true)
        }
    }

    /// The direct subexpressions, in source order: one traversal for every analysis below.
    var children: [Typed] {
        switch self {
        case .constant, .field, .prev, .listed, .lookup, .groupKey: []
        case .negate(let a), .not(let a): [a]
        case .arith(_, let a, let b), .compare(_, let a, let b), .and(let a, let b), .or(let a, let b): [a, b]
        case .inList(let a, let l, _): [a] + l
        case .call(_, let args): args
        case .ifThen(let c, let a, let b, _): [c, a] + (b.map { [$0] } ?? [])
        case .projects(_, let i), .group(_, let i, _): i.map { [$0] } ?? []
        }
    }

    /// Calls `visit` on this expression and every subexpression, depth first, in source order.
    func forEachNode(_ visit: (Typed) -> Void) {
        visit(self)
        for c in children { c.forEachNode(visit) }
    }

    /// Every dictionary field the expression reads, in order of first use (aggregated project fields included).
    public var fieldsRead: [FieldDefinition] {
        var out: [FieldDefinition] = []
        var seen = Set<String>()
        forEachNode { t in
            switch t {
            case .field(let f), .prev(let f): if seen.insert(f.code).inserted { out.append(f) }
            default: break
            }
        }
        return out
    }

    /// Bindings (prev/listed/lookup) the expression needs, as text for "not applicable" reasons.
    var bindingsUsed: [String] {
        var out: [String] = []
        forEachNode { t in
            switch t {
            case .prev(let f): out.append("prev(\(f.code))")
            case .listed(let r): out.append("listed(\(r))")
            case .lookup(let r, let f): out.append("lookup(\(r), \(f))")
            default: break
            }
        }
        return out
    }
}
