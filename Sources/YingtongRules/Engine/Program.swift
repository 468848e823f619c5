import Foundation
import YingtongModel

/// One piece of a rendered message: literal text or a value of the failing row.
enum MessagePart: Sendable {
    case text(String)
    case value(Kernel)
    case imbalance, expected, lhs, rhs
    /// Group rules: the number of rows in the group.
    case groupRows
}

/// A record-level rule after checking and compilation (an `each_field` rule becomes one program per field).
struct Program: Sendable {
    let id: String
    let severity: Severity
    let level: Int
    let scope: RowScope
    let when: Kernel?
    let check: Kernel
    /// Top-level numeric comparison: both sides, for expected value and imbalance (lhs − rhs).
    let explain: (lhs: Kernel, rhs: Kernel, op: BinaryOperator)?
    let blamed: [String]
    let observed: [(String, Kernel)]
    let message: [MessagePart]
    /// Fields read directly, to name the missing one in a "not applicable" reason.
    let reads: [(String, Kernel)]
    let bindings: [String]
    let onMissing: OnMissing
    let since: Int?
    let until: Int?
    let appliesTo: Set<RuleSubject>
}

/// A cross-record rule: rows are grouped by a key as batches stream by; the check runs over each group's
/// aggregates when the run ends (or over the store later: the accumulators are plain sums and counts).
struct GroupProgram: Sendable {
    let id: String
    let severity: Severity
    let level: Int
    let rowScope: RowScope
    let keyNames: [String]
    let keys: [Kernel]
    let when: Kernel?
    let slots: [(Aggregate, Kernel?)]
    let slotNames: [String]
    let check: Kernel
    let message: [MessagePart]
    let observedKeys: [(String, Kernel)]

    /// Every aggregate is `count()`: the row count is the whole state (uniqueness rules).
    var countOnly: Bool { slots.allSatisfy { $0.0 == .count && $0.1 == nil } }
}

/// What a pack's kernels read from a block: the rule stage reads only these columns back from the store and
/// only these registries with each block.
final class DataUse: @unchecked Sendable {
    // @unchecked: filled while the engine is being compiled, read-only once it is built.
    private(set) var fields = Set<String>()
    private(set) var registries = Set<String>()

    func note(_ t: Typed) {
        t.forEachNode { node in
            switch node {
            case .field(let f), .prev(let f): fields.insert(f.code)
            case .listed(let r), .lookup(let r, _): registries.insert(r)
            default: break
            }
        }
    }
}

/// Turns rule definitions into programs, reporting the first mistake of each rule with its location.
struct RuleCompiler {
    let dictionary: FieldDictionary
    let pack: RulePack
    let derived: [String: Syntax]
    let use = DataUse()

    /// Every expression becomes a kernel here, so that `use` sees everything the programs can read.
    func kernel(_ t: Typed, _ o: CompileOptions) -> Kernel {
        use.note(t)
        return Compiler.compile(t, o)
    }

    init(pack: RulePack, dictionary: FieldDictionary) throws {
        self.dictionary = dictionary
        self.pack = pack
        var d: [String: Syntax] = [:]
        for (name, text) in pack.derived { d[name] = try text.parse() }
        derived = d
    }

    func env(_ rule: RuleDefinition) -> NameEnvironment {
        var e = NameEnvironment()
        e.params = pack.params.merging(rule.params) { _, r in r }
        e.derived = derived
        return e
    }

    func located(_ e: RuleError, _ rule: RuleDefinition, _ file: String? = nil) -> RuleError {
        var x = e
        x.ruleID = rule.id
        if x.file == nil { x.file = file ?? rule.file }
        return x
    }

    /// Fields an `each_field` rule expands over.
    func expansion(_ each: EachField) -> [FieldDefinition] {
        dictionary.fields.filter { f in
            (each.forms.isEmpty || f.form.map(each.forms.contains) == true) && (each.types.isEmpty || each.types.contains(f.type))
        }
    }

    func tolerance(_ rule: RuleDefinition, _ env: NameEnvironment) throws -> Dec? {
        guard let t = rule.tolerance else { return nil }
        if let d = Dec(t) { return d.magnitude }
        if case .number(let d?)? = env.params[t] { return d.magnitude }
        throw RuleError(code: "E-RULE-TOLERANCE", file: rule.file, location: rule.location, ruleID: rule.id,
                        messageZh: "tolerance 应为数字或数值参数名，而不是 \(t)")
    }

    func compile(_ rule: RuleDefinition) throws -> (programs: [Program], group: GroupProgram?) {
        do {
            if rule.groupBy != nil { return ([], try compileGroup(rule)) }
            if let each = rule.eachField {
                var out: [Program] = []
                for f in expansion(each) {
                    var e = env(rule)
                    e.aliases["it"] = .field(f)
                    e.aliases["it_type"] = .constant(.text(f.type.rawValue))
                    e.aliases["it_name"] = .constant(.text(f.name))
                    out.append(try compileRecord(rule, env: e, blame: [f.code], scopeHint: f.form == .projects ? .project : .enterprise))
                }
                return (out, nil)
            }
            return ([try compileRecord(rule, env: env(rule), blame: rule.fields, scopeHint: nil)], nil)
        } catch let e as RuleError {
            throw located(e, rule)
        }
    }

    func compileRecord(_ rule: RuleDefinition, env: NameEnvironment, blame: [String], scopeHint: RowScope?) throws -> Program {
        let checkSyntax = try rule.check.parse()
        var whenSyntax: Syntax?
        if let w = rule.when { whenSyntax = try w.parse() }
        let probe = TypeChecker(dictionary: dictionary, env: env, scope: .enterprise)
        let inferred: RowScope = probe.readsProjectFieldsDirectly(checkSyntax)
            || (whenSyntax.map(probe.readsProjectFieldsDirectly) ?? false) ? .project : .enterprise
        let scope = rule.scope ?? scopeHint ?? inferred
        let tc = TypeChecker(dictionary: dictionary, env: env, scope: scope)
        let check = try tc.check(checkSyntax, expect: .bool)
        var when: Typed?
        if let whenSyntax { when = try tc.check(whenSyntax, expect: .bool) }
        var opts = CompileOptions()
        opts.tolerance = try tolerance(rule, env)
        opts.zeroFill = rule.onMissing == .zero
        var whenOpts = opts
        whenOpts.tolerance = nil
        var explain: (Kernel, Kernel, BinaryOperator)?
        if case .compare(let op, let a, let b) = check, a.type == .number {
            var plain = opts
            plain.tolerance = nil
            explain = (kernel(a, plain), kernel(b, plain), op)
        }
        let shown = blame.isEmpty ? check.fieldsRead.filter { scope == .project || $0.form != .projects }.map(\.code) : blame
        var observed: [(String, Kernel)] = []
        for name in shown {
            let t = try tc.resolve(name, rule.location)
            observed.append((name, kernel(t, opts)))
        }
        // message_en is not rendered (reports are Chinese) but its placeholders must name something too.
        if let en = rule.messageEn { _ = try message(en, rule, tc, opts) }
        let direct = check.fieldsRead.filter { scope == .project || $0.form != .projects }
        let reads = direct.map { ($0.code, kernel(.field($0), opts)) }
        return Program(
            id: rule.id, severity: rule.severity, level: rule.level, scope: scope,
            when: when.map { kernel($0, whenOpts) }, check: kernel(check, opts),
            explain: explain, blamed: blame, observed: observed,
            message: try message(rule.messageZh, rule, tc, opts), reads: reads,
            bindings: check.bindingsUsed + (when?.bindingsUsed ?? []), onMissing: rule.onMissing,
            since: rule.since, until: rule.until, appliesTo: rule.appliesTo)
    }

    static let specialPlaceholders: Set<String> = ["imbalance", "expected", "lhs", "rhs"]

    /// Splits `{name}` placeholders out of a message; every name must be a field, parameter or derived value.
    func message(_ text: String, _ rule: RuleDefinition, _ tc: TypeChecker, _ opts: CompileOptions) throws -> [MessagePart] {
        var parts: [MessagePart] = []
        var lit = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "{", let close = text[i...].firstIndex(of: "}") {
                let name = String(text[text.index(after: i)..<close]).trimmingCharacters(in: .whitespaces)
                if !lit.isEmpty { parts.append(.text(lit)); lit = "" }
                switch name {
                case "imbalance": parts.append(.imbalance)
                case "expected": parts.append(.expected)
                case "lhs": parts.append(.lhs)
                case "rhs": parts.append(.rhs)
                case "rows" where rule.groupBy != nil: parts.append(.groupRows)
                default:
                    let t: Typed
                    do { t = try tc.resolve(name, rule.location) } catch {
                        throw RuleError(code: "E-RULE-MESSAGE", file: rule.file, location: rule.location, ruleID: rule.id,
                                        messageZh: "message_zh 中的占位符 {\(name)} 不是字段、参数或派生量"
                                            + didYouMean(name, among: tc.knownNames + Array(Self.specialPlaceholders)))
                    }
                    parts.append(.value(kernel(t, opts)))
                }
                i = text.index(after: close)
                continue
            }
            lit.append(c)
            i = text.index(after: i)
        }
        if !lit.isEmpty { parts.append(.text(lit)) }
        return parts
    }

    func compileGroup(_ rule: RuleDefinition) throws -> GroupProgram {
        let keys = rule.groupBy ?? []
        guard !keys.isEmpty else {
            throw RuleError(code: "E-RULE-GROUP", file: rule.file, location: rule.location, ruleID: rule.id, messageZh: "group_by 不能为空")
        }
        let e = env(rule)
        let rowScope: RowScope = rule.scope ?? (keys.contains { dictionary.field($0)?.form == .projects } ? .project : .enterprise)
        let rowTC = TypeChecker(dictionary: dictionary, env: e, scope: rowScope)
        var keyKernels: [Kernel] = []
        var keyTypes: [String: (Int, ValueType)] = [:]
        for (i, k) in keys.enumerated() {
            let t = try rowTC.resolve(k, rule.location)
            keyKernels.append(kernel(t, CompileOptions()))
            keyTypes[k] = (i, t.type)
        }
        var when: Typed?
        if let w = rule.when { when = try rowTC.check(try w.parse(), expect: .bool) }
        let gtc = TypeChecker(dictionary: dictionary, env: e, scope: rowScope)
        gtc.groupKeys = keyTypes
        let check = try gtc.check(try rule.check.parse(), expect: .bool)
        var opts = CompileOptions()
        opts.tolerance = try tolerance(rule, e)
        let slotNames = gtc.groupSlots.map { s in s.0.rawValue + "(" + (s.1.map { _ in "…" } ?? "") + ")" }
        return GroupProgram(
            id: rule.id, severity: rule.severity, level: rule.level, rowScope: rowScope, keyNames: keys,
            keys: keyKernels, when: when.map { kernel($0, CompileOptions()) },
            slots: gtc.groupSlots.map { ($0.0, $0.1.map { kernel($0, CompileOptions()) }) },
            slotNames: slotNames, check: kernel(check, opts),
            message: try message(rule.messageZh, rule, gtc, opts),
            observedKeys: zip(keys, keyKernels).map { ($0, $1) })
    }
}
