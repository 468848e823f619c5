import Foundation
import YingtongModel

/// A compiled expression: computes one column of results for every row of a frame in a tight loop.
typealias Kernel = @Sendable (Frame) -> Vec

/// How a rule's settings change compilation.
struct CompileOptions: Sendable {
    /// Tolerance applied to every numeric comparison of the check (never of `when`).
    var tolerance: Dec?
    /// `on_missing: zero` — missing numbers read as 0.
    var zeroFill = false
}

/// Turns typed expressions into kernels. One closure per node, each looping over a whole column: the
/// per-value cost is the loop body, not a closure call or a tree walk (GUIDE "columnar batches").
enum Compiler {
    static func compile(_ t: Typed, _ o: CompileOptions) -> Kernel {
        if t.isConstant, case .constant(let c) = fold(t) { return { f in Vec.constant(c, count: f.count) } }
        return compileNode(t, o)
    }

    private static func compileNode(_ t: Typed, _ o: CompileOptions) -> Kernel {
        switch t {
        case .constant(let c):
            return { f in Vec.constant(c, count: f.count) }
        case .field(let fd):
            let zero = o.zeroFill
            return { f in f.field(fd, zero: zero) }
        case .negate(let a):
            let k = compile(a, o)
            return { f in
                var n = k(f).asNum
                for i in 0..<n.v.count where n.ok[i] { n.v[i] = 0 &- n.v[i] }
                return .num(n)
            }
        case .arith(let op, let a, let b):
            return arith(op, compile(a, o), compile(b, o))
        case .compare(let op, let a, let b):
            let ka = compile(a, o), kb = compile(b, o)
            switch a.type {
            case .number: return compareNumbers(op, ka, kb, tolerance: o.tolerance)
            case .text:
                let ne = op == .ne
                return { f in
                    let x = ka(f).asText, y = kb(f).asText
                    return .bool((0..<x.count).map { i in
                        guard let p = x[i], let q = y[i] else { return triUnknown }
                        return (p == q) != ne ? triTrue : triFalse
                    })
                }
            default:
                let ne = op == .ne
                return { f in
                    let x = ka(f).asBool, y = kb(f).asBool
                    return .bool((0..<x.count).map { i in
                        guard x[i] != triUnknown, y[i] != triUnknown else { return triUnknown }
                        return (x[i] == y[i]) != ne ? triTrue : triFalse
                    })
                }
            }
        case .and(let a, let b):
            let ka = compile(a, o), kb = compile(b, o)
            return { f in
                var x = ka(f).asBool
                let y = kb(f).asBool
                // Kleene AND on F=0, T=1, U=2: false wins; otherwise true only when both are true (p | q == 1).
                x.withUnsafeMutableBufferPointer { xb in y.withUnsafeBufferPointer { yb in
                    for i in 0..<xb.count {
                        let p = xb[i], q = yb[i]
                        xb[i] = (p == 0 || q == 0) ? 0 : (p | q) == 1 ? 1 : 2
                    }
                } }
                return .bool(x)
            }
        case .or(let a, let b):
            let ka = compile(a, o), kb = compile(b, o)
            return { f in
                var x = ka(f).asBool
                let y = kb(f).asBool
                x.withUnsafeMutableBufferPointer { xb in y.withUnsafeBufferPointer { yb in
                    for i in 0..<xb.count {
                        let p = xb[i], q = yb[i]
                        xb[i] = (p == 1 || q == 1) ? 1 : (p | q) == 0 ? 0 : 2
                    }
                } }
                return .bool(x)
            }
        case .not(let a):
            let k = compile(a, o)
            return { f in
                var x = k(f).asBool
                for i in 0..<x.count where x[i] != triUnknown { x[i] = 1 - x[i] }
                return .bool(x)
            }
        case .inList(let a, let items, let negated):
            return inList(a, items, negated, o)
        case .call(let b, let args):
            return call(b, args, o)
        case .ifThen(let c, let a, let b, let type):
            let kc = compile(c, o), ka = compile(a, o)
            let kb = b.map { compile($0, o) }
            return { f in
                let cond = kc(f).asBool
                let x = ka(f)
                let y = kb?(f) ?? Vec.constant(type == .number ? .number(nil) : type == .bool ? .bool(nil) : .text(nil), count: f.count)
                return select(cond, x, y)
            }
        case .projects(let agg, let inner):
            return projects(agg, inner.map { compile($0, o) })
        case .prev(let fd):
            return { f in
                f.cached("prev:" + fd.code) {
                    let rb = f.scope == .enterprise ? f.batch.activity : f.batch.projects
                    guard let vals = f.bindings.previous(fd.code, uscc: rb.uscc, period: rb.period) else {
                        f.unbound.append("prev(\(fd.code))")
                        return Vec.constant(.number(nil), count: f.count)
                    }
                    return .num(NumVec(milli: vals))
                }
            }
        case .listed(let reg):
            return { f in
                f.cached("listed:" + reg) {
                    let rb = f.records
                    guard let vals = f.bindings.listed(reg, uscc: rb.uscc, period: rb.period) else {
                        f.unbound.append("listed(\(reg))")
                        return Vec.constant(.bool(nil), count: f.count)
                    }
                    return .bool(vals.map { $0 ? triTrue : triFalse })
                }
            }
        case .lookup(let reg, let field):
            return { f in
                f.cached("lookup:\(reg).\(field)") {
                    let rb = f.records
                    guard let vals = f.bindings.lookup(reg, field, uscc: rb.uscc, period: rb.period) else {
                        f.unbound.append("lookup(\(reg), \(field))")
                        return Vec.constant(.number(nil), count: f.count)
                    }
                    return .num(NumVec(milli: vals))
                }
            }
        case .group(_, _, let slot):
            return { f in f.groupSlots[slot] }
        case .groupKey(let i, _):
            return { f in f.groupKeys[i] }
        }
    }

    /// Evaluates a constant expression once (the same kernels, on a one-row frame): folding can never
    /// disagree with evaluation.
    static func fold(_ t: Typed) -> Typed {
        guard t.isConstant else { return t }
        if case .constant = t { return t }
        let v = compileNode(t, CompileOptions())(Frame(count: 1))
        switch v {
        case .num(let n): return .constant(.number(n[0]))
        case .bool(let b): return .constant(.bool(b[0] == triUnknown ? nil : b[0] == triTrue))
        case .text(let s): return .constant(.text(s[0]))
        }
    }

    /// Folds constants inside an expression, including Kleene short cuts: `false and x` is false and
    /// `true or x` is true whatever x is. Lint uses it to find guards that can never hold.
    static func simplify(_ t: Typed) -> Typed {
        if t.isConstant { return fold(t) }
        func isBool(_ t: Typed, _ v: Bool) -> Bool { if case .constant(.bool(v?)) = t { return true } else { return false } }
        switch t {
        case .and(let a, let b):
            let x = simplify(a), y = simplify(b)
            if isBool(x, false) || isBool(y, false) { return .constant(.bool(false)) }
            if isBool(x, true) { return y }
            if isBool(y, true) { return x }
            return .and(x, y)
        case .or(let a, let b):
            let x = simplify(a), y = simplify(b)
            if isBool(x, true) || isBool(y, true) { return .constant(.bool(true)) }
            if isBool(x, false) { return y }
            if isBool(y, false) { return x }
            return .or(x, y)
        case .not(let a):
            let x = simplify(a)
            return x.isConstant ? fold(.not(x)) : .not(x)
        case .ifThen(let c, let a, let b, let type):
            let x = simplify(c)
            if isBool(x, true) { return simplify(a) }
            if isBool(x, false) { return b.map(simplify) ?? .constant(type == .bool ? .bool(nil) : type == .text ? .text(nil) : .number(nil)) }
            return .ifThen(x, simplify(a), b.map(simplify), type)
        default:
            return t
        }
    }

    static func select(_ cond: [Tri], _ x: Vec, _ y: Vec) -> Vec {
        switch (x, y) {
        case (.num(let a), .num(let b)):
            var out = NumVec(count: cond.count, constant: nil)
            for i in 0..<cond.count {
                if cond[i] == triTrue { out.v[i] = a.v[i]; out.ok[i] = a.ok[i] } else if cond[i] == triFalse { out.v[i] = b.v[i]; out.ok[i] = b.ok[i] }
            }
            return .num(out)
        case (.bool(let a), .bool(let b)):
            return .bool((0..<cond.count).map { cond[$0] == triTrue ? a[$0] : cond[$0] == triFalse ? b[$0] : triUnknown })
        case (.text(let a), .text(let b)):
            return .text((0..<cond.count).map { cond[$0] == triTrue ? a[$0] : cond[$0] == triFalse ? b[$0] : nil })
        default:
            // then/else of a null literal: typed as the other branch; a null number constant stands in.
            let a = x.count == 0 ? y : x
            return select(cond, a.retyped(like: y), y.retyped(like: a))
        }
    }

    static func arith(_ op: BinaryOperator, _ ka: @escaping Kernel, _ kb: @escaping Kernel) -> Kernel {
        return { f in
            var x = ka(f).asNum
            let y = kb(f).asNum
            let n = x.v.count
            switch op {
            case .add:
                for i in 0..<n {
                    guard x.ok[i] && y.ok[i] else { x.ok[i] = false; continue }
                    let (r, o) = x.v[i].addingReportingOverflow(y.v[i])
                    x.v[i] = r; if o { x.ok[i] = false }
                }
            case .sub:
                for i in 0..<n {
                    guard x.ok[i] && y.ok[i] else { x.ok[i] = false; continue }
                    let (r, o) = x.v[i].subtractingReportingOverflow(y.v[i])
                    x.v[i] = r; if o { x.ok[i] = false }
                }
            case .mul:
                for i in 0..<n {
                    guard x.ok[i] && y.ok[i], let r = Dec.multiplying(Dec(raw: x.v[i]), Dec(raw: y.v[i])) else { x.ok[i] = false; continue }
                    x.v[i] = r.raw
                }
            default:
                // Division by zero is "not applicable" for that row: the ratio does not exist.
                for i in 0..<n {
                    guard x.ok[i] && y.ok[i], let r = Dec.dividing(Dec(raw: x.v[i]), Dec(raw: y.v[i])) else { x.ok[i] = false; continue }
                    x.v[i] = r.raw
                }
            }
            return .num(x)
        }
    }

    static func compareNumbers(_ op: BinaryOperator, _ ka: @escaping Kernel, _ kb: @escaping Kernel, tolerance: Dec?) -> Kernel {
        let t = tolerance?.magnitude.raw ?? 0
        return { f in
            let x = ka(f).asNum, y = kb(f).asNum
            let n = x.v.count
            var out = [Tri](repeating: triUnknown, count: n)
            // The hottest loop of the catalogue: raw buffers, no bounds checks, no branches on the operator
            // inside the loop.
            x.v.withUnsafeBufferPointer { xv in y.v.withUnsafeBufferPointer { yv in
            x.ok.withUnsafeBufferPointer { xo in y.ok.withUnsafeBufferPointer { yo in
            out.withUnsafeMutableBufferPointer { o in
                @inline(__always) func each(_ test: (Int64, Bool) -> Bool) {
                    for i in 0..<n where xo[i] && yo[i] {
                        // d = a − b; an overflowing difference is beyond any tolerance, with the operands' sign.
                        let (d, ov) = xv[i].subtractingReportingOverflow(yv[i])
                        let big = ov ? (xv[i] > yv[i] ? Int64.max : Int64.min) : d
                        o[i] = test(big, ov) ? triTrue : triFalse
                    }
                }
                let tm = t.magnitude
                switch op {
                case .eq: each { d, ov in !ov && d.magnitude <= tm }
                case .ne: each { d, ov in ov || d.magnitude > tm }
                case .lt: each { d, _ in d < t }
                case .le: each { d, _ in d <= t }
                case .gt: each { d, _ in d > -t }
                default: each { d, _ in d >= -t }
                }
            } } } } }
            return .bool(out)
        }
    }

    static func inList(_ a: Typed, _ items: [Typed], _ negated: Bool, _ o: CompileOptions) -> Kernel {
        let ka = compile(a, o)
        let allConstant = items.allSatisfy(\.isConstant)
        if allConstant {
            let consts = items.map { fold($0) }
            if a.type == .text {
                let set = Set(consts.compactMap { if case .constant(.text(let s?)) = $0 { s } else { nil } })
                return { f in
                    .bool(ka(f).asText.map { s in s.map { set.contains($0) != negated ? triTrue : triFalse } ?? triUnknown })
                }
            }
            let set = Set(consts.compactMap { if case .constant(.number(let d?)) = $0 { d.raw } else { nil } })
            return { f in
                let x = ka(f).asNum
                return .bool((0..<x.v.count).map { i in x.ok[i] ? (set.contains(x.v[i]) != negated ? triTrue : triFalse) : triUnknown })
            }
        }
        // Items that are expressions (e.g. [region_code, …]): compare row by row.
        let ks = items.map { compile($0, o) }
        return { f in
            let x = ka(f)
            let ys = ks.map { $0(f) }
            return .bool((0..<f.count).map { i in
                if x.isNull(i) { return triUnknown }
                var unknown = false
                for y in ys {
                    if y.isNull(i) { unknown = true; continue }
                    let eq: Bool
                    switch (x, y) {
                    case (.num(let p), .num(let q)): eq = p.v[i] == q.v[i]
                    case (.text(let p), .text(let q)): eq = p[i] == q[i]
                    default: eq = false
                    }
                    if eq { return negated ? triFalse : triTrue }
                }
                return unknown ? triUnknown : (negated ? triTrue : triFalse)
            })
        }
    }

    static func projects(_ agg: Aggregate, _ inner: Kernel?) -> Kernel {
        return { f in
            let ranges = f.batch.projectRanges
            let n = f.count
            let pf = f.projects
            let vals = inner?(pf)
            switch agg {
            case .count:
                var out = NumVec(count: n, constant: .zero)
                for e in 0..<n {
                    guard let vals else { out.v[e] = Int64(ranges[e].count) * Dec.scale; continue }
                    let b = vals.asBool
                    var c: Int64 = 0
                    for p in ranges[e] {
                        if b[p] == triUnknown { out.ok[e] = false; break }
                        if b[p] == triTrue { c += 1 }
                    }
                    out.v[e] = c * Dec.scale
                }
                return .num(out)
            case .any, .all:
                let b = vals!.asBool
                let want: Tri = agg == .any ? triTrue : triFalse
                return .bool((0..<n).map { e in
                    var unknown = false
                    for p in ranges[e] {
                        if b[p] == want { return want }
                        if b[p] == triUnknown { unknown = true }
                    }
                    return unknown ? triUnknown : (agg == .any ? triFalse : triTrue)
                })
            case .sum, .min, .max:
                let x = vals!.asNum
                var out = NumVec(count: n, constant: nil)
                for e in 0..<n {
                    let r = ranges[e]
                    // A missing project value makes the total unknown: a partial sum would be a silent guess.
                    if agg != .sum && r.isEmpty { continue }
                    var acc: Int64 = agg == .sum ? 0 : x.v[r.lowerBound]
                    var ok = true
                    for p in r {
                        guard x.ok[p] else { ok = false; break }
                        switch agg {
                        case .sum:
                            let (s, o) = acc.addingReportingOverflow(x.v[p])
                            if o { ok = false } else { acc = s }
                        case .min: acc = Swift.min(acc, x.v[p])
                        default: acc = Swift.max(acc, x.v[p])
                        }
                    }
                    out.v[e] = acc
                    out.ok[e] = ok
                }
                return .num(out)
            }
        }
    }
}

extension Vec {
    /// A null column of the other's type (the null literal in an if/else branch).
    func retyped(like other: Vec) -> Vec {
        switch (self, other) {
        case (.num, .num), (.bool, .bool), (.text, .text): return self
        case (_, .num): return .constant(.number(nil), count: count)
        case (_, .bool): return .constant(.bool(nil), count: count)
        case (_, .text): return .constant(.text(nil), count: count)
        }
    }
}
