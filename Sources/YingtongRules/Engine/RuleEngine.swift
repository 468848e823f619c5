import Foundation
import YingtongModel

/// Per-rule counts over the rows a rule was confronted with (R `validate`'s summary).
///
/// `evaluated = passed + failed + notApplicable`. Not applicable is broken down by reason: the guard did not
/// hold (`when`), the report year is outside `since`/`until`, a value was missing (named), or a binding
/// (previous year, a registry) was not provided.
public struct RuleCounts: Sendable, Codable, Hashable {
    public var rule: String
    public var severity: Severity
    public var level: Int
    public var evaluated = 0
    public var passed = 0
    public var failed = 0
    public var notApplicable = 0
    public var reasons: [String: Int] = [:]

    public init(rule: String, severity: Severity, level: Int) {
        self.rule = rule
        self.severity = severity
        self.level = level
    }

    mutating func add(_ o: RuleCounts) {
        evaluated += o.evaluated
        passed += o.passed
        failed += o.failed
        notApplicable += o.notApplicable
        reasons.merge(o.reasons, uniquingKeysWith: +)
    }

    mutating func notApplicable(_ reason: String) {
        evaluated += 1
        notApplicable += 1
        reasons[reason, default: 0] += 1
    }
}

/// Counts for every rule of a pack, in pack order; summaries of batches merge.
public struct RuleSummary: Sendable, Codable, Hashable {
    public var rules: [RuleCounts]

    public subscript(_ id: String) -> RuleCounts? { rules.first { $0.rule == id } }

    public mutating func merge(_ other: RuleSummary) {
        for o in other.rules {
            if let i = rules.firstIndex(where: { $0.rule == o.rule }) { rules[i].add(o) } else { rules.append(o) }
        }
    }
}

/// What one evaluation produced: every finding (no cap) and the counts.
public struct RuleResult: Sendable {
    public var violations: [Violation]
    public var summary: RuleSummary
    /// The pack that produced them (the run manifest records both; `Violation` itself has no room for it).
    public var packVersion: String = ""
    public var packSHA256: String = ""
}

/// Streaming state of the group (cross-record) rules: one hash table of keys per rule.
public struct GroupState: Sendable {
    var tables: [GroupTable]
}

/// Groups of one rule: a small hash index (fingerprint → position) over a dense array of accumulators, so
/// the hash table holds 4-byte values and growing it never moves the accumulators.
struct GroupTable: Sendable {
    var index: [Fingerprint: Int32] = [:]
    var accs: [GroupAcc] = []
}

/// One value of a group key, kept with the group for its messages and the group frame.
enum KeyPart: Hashable, Sendable {
    case text(String)
    case num(Int64)
}

/// A group key's 128-bit fingerprint: two SipHash values (differently salted) over the key's parts.
///
/// Rows are matched by fingerprint, so a row costs two hash computations and no allocation; a group keeps
/// its key's values (from its first row) for messages. Two different keys collide with probability about
/// n² / 2¹²⁹ — for 10⁷ groups, 10⁻²⁵: far below the chance of a memory error, and it would only merge two
/// groups' counts, never lose a record.
struct Fingerprint: Hashable, Sendable {
    var a: Int
    var b: Int

    static func of(_ keys: [Vec], _ i: Int) -> Fingerprint? {
        var h1 = Hasher(), h2 = Hasher()
        h1.combine(0x5BD1_E995 as UInt32)
        h2.combine(0x9E37_79B9 as UInt32)
        for k in keys {
            switch k {
            case .num(let x):
                guard x.ok[i] else { return nil }
                h1.combine(x.v[i]); h2.combine(x.v[i])
            case .text(let t):
                guard let s = t[i] else { return nil }
                ByteText.withUTF8(s) { h1.combine(bytes: UnsafeRawBufferPointer($0)); h2.combine(bytes: UnsafeRawBufferPointer($0)) }
                h1.combine(UInt8(0xFF)); h2.combine(UInt8(0xFF))   // 0xFF never occurs in UTF-8: parts cannot run together
            case .bool(let b):
                guard b[i] != triUnknown else { return nil }
                h1.combine(b[i]); h2.combine(b[i])
            }
        }
        return Fingerprint(a: h1.finalize(), b: h2.finalize())
    }
}

/// One slot's running value: a sum, count, min or max (`v`, `ok`, `started`) or a Kleene any/all (`tri`).
struct SlotAcc: Sendable {
    var v: Int64 = 0
    var ok = true
    var started = false
    var tri: Tri = triFalse
}

/// A group's accumulators and the record that opened it (where its finding points).
struct GroupAcc: Sendable {
    var key: [KeyPart]
    var rows = 0
    /// Empty when every aggregate is a plain `count()`, which `rows` already is: no allocation per group.
    var slots: [SlotAcc]
    var uscc: String
    var period: Int
    var project: String?
    var sourceIndex: Int32
    var line: Int32
}

/// The compiled rule catalogue: type-checked once, then run over batches, all record rules in one pass.
///
/// ```swift
/// let pack = try RulePack.load(path: "pipelines/rules/rd-catalogue.yaml")
/// let engine = try RuleEngine(pack: pack, dictionary: .standard)
/// var groups = engine.makeGroupState()
/// for batch in batches {
///     let r = engine.evaluate(batch, bindings: bindings, groups: &groups)
///     store(r.violations); summary.merge(r.summary)
/// }
/// let cross = engine.finish(groups)       // uniqueness and other group rules
/// ```
public final class RuleEngine: Sendable {
    public let pack: RulePack
    let programs: [Program]
    let groupPrograms: [GroupProgram]
    /// Rule ids in pack order with severity and level (the summary's rows).
    let ruleRows: [(String, Severity, Int)]
    /// Dictionary fields the rules read (`prev` included): the columns a block must hold.
    public let fieldsRead: Set<String>
    /// Registries (and the roster) the rules read through `listed` and `lookup`: what a block needs bound.
    public let registriesUsed: Set<String>

    /// Checks and compiles every rule; throws the first mistake (use `Lint.run` to see them all).
    public init(pack: RulePack, dictionary: FieldDictionary = .standard) throws {
        self.pack = pack
        let rc = try RuleCompiler(pack: pack, dictionary: dictionary)
        var ps: [Program] = []
        var gs: [GroupProgram] = []
        var seen = Set<String>()
        var rows: [(String, Severity, Int)] = []
        for rule in pack.rules {
            guard seen.insert(rule.id).inserted else {
                throw RuleError(code: "E-RULE-DUPLICATE", file: rule.file, location: rule.location, ruleID: rule.id,
                                messageZh: "规则编号 \(rule.id) 重复")
            }
            let (p, g) = try rc.compile(rule)
            ps += p
            if let g { gs.append(g) }
            rows.append((rule.id, rule.severity, rule.level))
        }
        programs = ps
        groupPrograms = gs
        ruleRows = rows
        fieldsRead = rc.use.fields
        registriesUsed = rc.use.registries
    }

    public var ruleIDs: [String] { ruleRows.map(\.0) }

    func emptySummary() -> RuleSummary {
        RuleSummary(rules: ruleRows.map { RuleCounts(rule: $0.0, severity: $0.1, level: $0.2) })
    }

    public func makeGroupState() -> GroupState {
        GroupState(tables: Array(repeating: GroupTable(), count: groupPrograms.count))
    }

    /// Runs the record-level rules (107-2 and 107-1) over one batch; group rules are not fed.
    public func evaluate(_ batch: EnterpriseBatch, bindings: any RuleBindings = NoBindings()) -> RuleResult {
        var g = GroupState(tables: [])
        return evaluate(batch, bindings: bindings, groups: &g, feedGroups: false)
    }

    /// Runs the record-level rules over one batch and feeds the group rules' accumulators.
    public func evaluate(_ batch: EnterpriseBatch, bindings: any RuleBindings = NoBindings(), groups: inout GroupState) -> RuleResult {
        evaluate(batch, bindings: bindings, groups: &groups, feedGroups: true)
    }

    /// Runs the rules that apply to units which sent nothing (`applies_to: unreported`) over a batch of such
    /// units: identity only, every reported value missing. Group rules never see them.
    public func evaluateUnreported(_ batch: EnterpriseBatch, bindings: any RuleBindings) -> RuleResult {
        var g = GroupState(tables: [])
        return evaluate(batch, bindings: bindings, groups: &g, feedGroups: false, subject: .unreported)
    }

    /// Whether any rule examines units that sent nothing: if none does, the run need not list them.
    public var examinesUnreported: Bool { programs.contains { $0.appliesTo.contains(.unreported) } }

    /// Rule ids whose findings feed the 应统尽统 list.
    public var omissionRules: Set<String> { Set(pack.rules.filter { $0.worklist == "omission" }.map(\.id)) }

    private func evaluate(_ batch: EnterpriseBatch, bindings: any RuleBindings, groups: inout GroupState, feedGroups: Bool,
                          subject: RuleSubject = .reported) -> RuleResult {
        let ef = Frame(scope: .enterprise, batch: batch, bindings: bindings)
        let pf = ef.projects
        var summary = emptySummary()
        var index: [String: Int] = [:]
        for (i, r) in summary.rules.enumerated() { index[r.rule] = i }
        var violations: [Violation] = []
        for p in programs where p.appliesTo.contains(subject) {
            let f = p.scope == .enterprise ? ef : pf
            f.unbound = []
            ef.unbound = []
            var counts = RuleCounts(rule: p.id, severity: p.severity, level: p.level)
            run(p, f, &counts, &violations)
            summary.rules[index[p.id]!].add(counts)
        }
        if feedGroups {
            for (gi, g) in groupPrograms.enumerated() {
                feed(g, g.rowScope == .enterprise ? ef : pf, &groups.tables[gi])
            }
        }
        return RuleResult(violations: violations, summary: summary, packVersion: pack.version, packSHA256: pack.sha256)
    }

    private func run(_ p: Program, _ f: Frame, _ counts: inout RuleCounts, _ out: inout [Violation]) {
        let n = f.count
        guard n > 0 else { return }
        let rb = f.records
        let check = p.check(f).asBool
        let when = p.when?(f).asBool
        let unbound = f.unbound + (f.parent?.unbound ?? [])
        var sides: (NumVec, NumVec)?
        var shown: (observed: [Vec], message: [Vec?], projects: [String?]?)?
        var reads: [Vec]?
        // Reasons are counted in local slots and named once per batch: a dictionary update per row would
        // cost more than the check itself.
        var naSince = 0, naUntil = 0, naWhenFalse = 0, naWhenUnknown = 0, naUnbound = 0, naOther = 0
        var naMissing = [Int](repeating: 0, count: p.reads.count)
        defer {
            let named: [(String, Int)] = [
                ("报告年度早于 \(p.since ?? 0)", naSince), ("报告年度晚于 \(p.until ?? 0)", naUntil),
                ("when 条件不成立", naWhenFalse), ("when 条件无法判定（值缺失）", naWhenUnknown),
                ("未提供外部数据：" + unbound.joined(separator: "、"), naUnbound),
                ("无法计算（除数为0、日期无效或项目值缺失）", naOther),
            ] + zip(p.reads, naMissing).map { ("缺少 \($0.0)", $1) }
            for (reason, k) in named where k > 0 {
                counts.evaluated += k
                counts.notApplicable += k
                counts.reasons[reason, default: 0] += k
            }
        }
        for i in 0..<n {
            if let since = p.since, rb.period[i] < since { naSince += 1; continue }
            if let until = p.until, rb.period[i] > until { naUntil += 1; continue }
            if let when {
                if when[i] == triFalse { naWhenFalse += 1; continue }
                if when[i] == triUnknown { naWhenUnknown += 1; continue }
            }
            switch check[i] {
            case triTrue:
                counts.evaluated += 1
                counts.passed += 1
                continue
            case triUnknown where p.onMissing != .fail:
                if !unbound.isEmpty {
                    naUnbound += 1
                } else {
                    if reads == nil { reads = p.reads.map { $0.1(f) } }
                    if let j = reads!.indices.first(where: { reads![$0].isNull(i) }) {
                        naMissing[j] += 1
                    } else {
                        naOther += 1
                    }
                }
                continue
            default:
                break
            }
            counts.evaluated += 1
            counts.failed += 1
            if sides == nil, let e = p.explain { sides = (e.lhs(f).asNum, e.rhs(f).asNum) }
            // Values for explanations are computed once per batch, on the first failure, never per row.
            if shown == nil {
                shown = (p.observed.map { $0.1(f) }, p.message.map { part in
                    if case .value(let k) = part { return k(f) } else { return nil }
                }, f.scope == .project ? rb.column("project_name").map { c in (0..<n).map { c.text($0) } } : nil)
            }
            out.append(violation(p, f, rb, i, sides, shown!))
        }
    }

    private func violation(_ p: Program, _ f: Frame, _ rb: RecordBatch, _ i: Int, _ sides: (NumVec, NumVec)?,
                           _ shown: (observed: [Vec], message: [Vec?], projects: [String?]?)) -> Violation {
        var expected: String?
        var imbalance: String?
        var lhs: String?, rhs: String?
        if let (l, r) = sides, let e = p.explain {
            lhs = l[i]?.description
            rhs = r[i]?.description
            if let a = l[i], let b = r[i] {
                expected = "\(e.op.rawValue) \(b)"
                imbalance = Dec.subtracting(a, b)?.description
            }
        }
        let observed = zip(p.observed, shown.observed).map { "\($0.0)=\($1.display(i))" }.joined(separator: ", ")
        var msg = ""
        for (j, part) in p.message.enumerated() {
            switch part {
            case .text(let t): msg += t
            case .value: msg += shown.message[j]?.displayRounded(i) ?? ""
            case .imbalance: msg += imbalance ?? "空"
            case .expected: msg += expected ?? "空"
            case .lhs: msg += lhs ?? "空"
            case .rhs: msg += rhs ?? "空"
            case .groupRows: break
            }
        }
        let project = shown.projects?[i]
        let prov = i < rb.provenance.count ? rb.provenance[i] : nil
        return Violation(rule: p.id, severity: p.severity, level: p.level, uscc: rb.uscc[i], period: rb.period[i],
                         projectName: project, fields: p.blamed, observed: observed, expected: expected,
                         imbalance: imbalance, messageZh: msg, sourceIndex: prov?.sourceIndex ?? -1, line: prov?.line ?? 0)
    }

    private func feed(_ g: GroupProgram, _ f: Frame, _ table: inout GroupTable) {
        let n = f.count
        guard n > 0 else { return }
        let rb = f.records
        let keys = g.keys.map { $0(f) }
        let when = g.when?(f).asBool
        let slots = g.slots.map { $0.1?(f) }
        let projectCol = rb.column("project_name")
        for i in 0..<n {
            if let when, when[i] != triTrue { continue }
            guard let fp = Fingerprint.of(keys, i) else { continue }
            // One lookup per row: the default (with the key's values) is built only for a new group.
            // One hash per row: `&index[fp, default: -1]` inserts and reads in the same access.
            let j = position(&table.index[fp, default: -1], next: table.accs.count)
            if j == table.accs.count { table.accs.append(newGroup(g, keys, f, rb, projectCol, i)) }
            update(&table.accs[j], g, slots, i)
        }
    }

    @inline(__always) private func position(_ slot: inout Int32, next: Int) -> Int {
        if slot < 0 { slot = Int32(next) }
        return Int(slot)
    }

    private func newGroup(_ g: GroupProgram, _ keys: [Vec], _ f: Frame, _ rb: RecordBatch, _ projectCol: Column?, _ i: Int) -> GroupAcc {
        let parts: [KeyPart] = keys.map { k in
            switch k {
            case .num(let x): .num(x.v[i])
            case .text(let t): .text(t[i] ?? "")
            case .bool(let b): .num(Int64(b[i]))
            }
        }
        let prov = i < rb.provenance.count ? rb.provenance[i] : nil
        return GroupAcc(
            key: parts, slots: g.countOnly ? [] : g.slots.map { SlotAcc(tri: $0.0 == .all ? triTrue : triFalse) },
            uscc: rb.uscc[i], period: rb.period[i], project: f.scope == .project ? projectCol?.text(i) : nil,
            sourceIndex: prov?.sourceIndex ?? -1, line: prov?.line ?? 0)
    }

    /// Adds row `i` to a group's accumulators, in place in the hash table.
    private func update(_ acc: inout GroupAcc, _ g: GroupProgram, _ slots: [Vec?], _ i: Int) {
        acc.rows += 1
        if g.countOnly { return }
        for (s, (agg, _)) in g.slots.enumerated() {
            let v = slots[s]
            switch agg {
            case .count:
                if let v {
                    let b = v.asBool[i]
                    if b == triUnknown { acc.slots[s].ok = false } else if b == triTrue { acc.slots[s].v += Dec.scale }
                } else { acc.slots[s].v += Dec.scale }
            case .sum, .min, .max:
                let x = v!.asNum
                guard x.ok[i] else { acc.slots[s].ok = false; continue }
                if agg == .sum {
                    let (r, o) = acc.slots[s].v.addingReportingOverflow(x.v[i])
                    acc.slots[s].v = r; if o { acc.slots[s].ok = false }
                } else if !acc.slots[s].started {
                    acc.slots[s].v = x.v[i]
                } else {
                    acc.slots[s].v = agg == .min ? Swift.min(acc.slots[s].v, x.v[i]) : Swift.max(acc.slots[s].v, x.v[i])
                }
                acc.slots[s].started = true
            case .any, .all:
                let b = v!.asBool[i]
                let decisive: Tri = agg == .any ? triTrue : triFalse
                if acc.slots[s].tri == decisive { continue }
                if b == decisive { acc.slots[s].tri = decisive } else if b == triUnknown { acc.slots[s].tri = triUnknown }
            }
        }
    }

    /// Runs the group rules over everything fed so far: one verdict per group.
    public func finish(_ state: GroupState) -> RuleResult {
        var summary = emptySummary()
        var violations: [Violation] = []
        for (gi, g) in groupPrograms.enumerated() where gi < state.tables.count {
            // Groups in order of first appearance; findings are sorted by rule and input position at the end.
            let entries = state.tables[gi].accs
            let n = entries.count
            let f = Frame(count: n)
            f.groupKeys = g.keyNames.indices.map { k in
                let first = entries.first?.key[k]
                if case .num = first {
                    return .num(NumVec(v: entries.map { if case .num(let x) = $0.key[k] { x } else { 0 } },
                                       ok: Array(repeating: true, count: n)))
                }
                return .text(entries.map { if case .text(let s) = $0.key[k] { s } else { nil } })
            }
            f.groupSlots = g.slots.enumerated().map { s, slot in
                switch slot.0 {
                case _ where g.countOnly:
                    return .num(NumVec(v: entries.map { Int64($0.rows) * Dec.scale }, ok: Array(repeating: true, count: n)))
                case .any, .all: return .bool(entries.map { $0.slots[s].tri })
                case .min, .max:
                    return .num(NumVec(v: entries.map { $0.slots[s].v }, ok: entries.map { $0.slots[s].ok && $0.slots[s].started }))
                default:
                    return .num(NumVec(v: entries.map { $0.slots[s].v }, ok: entries.map { $0.slots[s].ok }))
                }
            }
            let check = n > 0 ? g.check(f).asBool : []
            var counts = RuleCounts(rule: g.id, severity: g.severity, level: g.level)
            let messageVecs: [Vec?] = n == 0 ? [] : g.message.map { part in
                if case .value(let k) = part { return k(f) } else { return nil }
            }
            for i in 0..<n {
                if check[i] == triTrue { counts.evaluated += 1; counts.passed += 1; continue }
                if check[i] == triUnknown { counts.notApplicable("分组聚合含缺失值"); continue }
                counts.evaluated += 1
                counts.failed += 1
                let acc = entries[i]
                var observed = zip(g.keyNames, f.groupKeys).map { "\($0)=\($1.display(i))" }
                observed.append("rows=\(acc.rows)")
                for (s, name) in g.slotNames.enumerated() { observed.append("\(name)=\(f.groupSlots[s].display(i))") }
                var msg = ""
                for (j, part) in g.message.enumerated() {
                    switch part {
                    case .text(let t): msg += t
                    case .value: msg += messageVecs[j]?.displayRounded(i) ?? ""
                    case .groupRows: msg += String(acc.rows)
                    default: msg += "空"
                    }
                }
                violations.append(Violation(
                    rule: g.id, severity: g.severity, level: g.level, uscc: g.keyNames.contains("uscc") ? acc.uscc : "",
                    period: acc.period, projectName: acc.project, fields: g.keyNames,
                    observed: observed.joined(separator: ", "), messageZh: msg,
                    sourceIndex: acc.sourceIndex, line: acc.line))
            }
            if let idx = summary.rules.firstIndex(where: { $0.rule == g.id }) { summary.rules[idx].add(counts) }
        }
        violations.sort { ($0.rule, $0.sourceIndex, $0.line) < ($1.rule, $1.sourceIndex, $1.line) }
        return RuleResult(violations: violations, summary: summary, packVersion: pack.version, packSHA256: pack.sha256)
    }
}
