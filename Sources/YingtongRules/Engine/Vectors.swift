import Foundation
import YingtongModel

/// Three-valued truth per row: 0 false, 1 true, 2 unknown (a value it depends on is missing).
typealias Tri = UInt8
let triFalse: Tri = 0, triTrue: Tri = 1, triUnknown: Tri = 2

/// Numbers of a batch: values and a presence mask (absent = null, which is not zero).
struct NumVec: Sendable {
    var v: [Int64]
    var ok: [Bool]

    init(count: Int, constant: Dec?) {
        v = [Int64](repeating: constant?.raw ?? 0, count: count)
        ok = [Bool](repeating: constant != nil, count: count)
    }

    init(v: [Int64], ok: [Bool]) { self.v = v; self.ok = ok }

    /// From bound values (previous year, registries); out-of-range values become null.
    init(milli: [Milli?]) {
        v = milli.map { m in m.flatMap { Dec(milli: $0)?.raw } ?? 0 }
        ok = milli.map { m in m.flatMap { Dec(milli: $0) } != nil }
    }

    subscript(i: Int) -> Dec? { ok[i] ? Dec(raw: v[i]) : nil }
}

/// A column of values computed by a kernel.
enum Vec: Sendable {
    case num(NumVec)
    case bool([Tri])
    case text([String?])

    var count: Int {
        switch self {
        case .num(let n): n.v.count
        case .bool(let b): b.count
        case .text(let t): t.count
        }
    }

    var asNum: NumVec {
        if case .num(let n) = self { return n }
        preconditionFailure("类型检查后不应出现：期望数值列")
    }

    var asBool: [Tri] {
        if case .bool(let b) = self { return b }
        preconditionFailure("类型检查后不应出现：期望逻辑列")
    }

    var asText: [String?] {
        if case .text(let t) = self { return t }
        preconditionFailure("类型检查后不应出现：期望文本列")
    }

    func isNull(_ i: Int) -> Bool {
        switch self {
        case .num(let n): !n.ok[i]
        case .bool(let b): b[i] == triUnknown
        case .text(let t): t[i] == nil
        }
    }

    /// The value of row `i` as people read it (`空` for null).
    func display(_ i: Int) -> String {
        switch self {
        case .num(let n): n[i]?.description ?? "空"
        case .bool(let b): b[i] == triTrue ? "是" : b[i] == triFalse ? "否" : "空"
        case .text(let t): t[i] ?? "空"
        }
    }

    /// As `display`, with numbers rounded to 4 decimals: messages are read by people; observed values stay exact.
    func displayRounded(_ i: Int) -> String {
        if case .num(let n) = self, let d = n[i] { return d.rounded(digits: 4).description }
        return display(i)
    }

    /// Repeats row `i` of self for each index in `rows` (enterprise values seen from project rows).
    func gather(_ rows: [Int]) -> Vec {
        switch self {
        case .num(let n):
            var v = [Int64](); v.reserveCapacity(rows.count)
            var ok = [Bool](); ok.reserveCapacity(rows.count)
            for r in rows { v.append(n.v[r]); ok.append(n.ok[r]) }
            return .num(NumVec(v: v, ok: ok))
        case .bool(let b): return .bool(rows.map { b[$0] })
        case .text(let t): return .text(rows.map { t[$0] })
        }
    }

    static func constant(_ c: Constant, count: Int) -> Vec {
        switch c {
        case .number(let d): .num(NumVec(count: count, constant: d))
        case .bool(let b): .bool([Tri](repeating: b.map { $0 ? triTrue : triFalse } ?? triUnknown, count: count))
        case .text(let s): .text([String?](repeating: s, count: count))
        case .textList, .numberList: preconditionFailure("列表常量只能用于 in")
        }
    }
}
