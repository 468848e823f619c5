import Foundation
import YingtongModel

/// The rows a kernel runs over, and everything it may read: a batch's columns (loaded once per batch and
/// shared by all rules), the enterprise rows behind project rows, bindings, group accumulators.
final class Frame {
    let scope: RowScope
    let batch: EnterpriseBatch
    let count: Int
    let bindings: any RuleBindings
    /// For a project frame: the enterprise frame whose values project rows see. Weak: the enterprise frame owns
    /// its project frame (`_projects`), and a strong reference back made every batch's frames — with the whole
    /// batch and its cached columns — a cycle that was never freed (RSS grew by ~3 KB per record).
    private(set) weak var parent: Frame?
    /// Group frames: one row per group; slot and key values were accumulated over the run.
    var groupSlots: [Vec] = []
    var groupKeys: [Vec] = []
    /// Bindings a kernel asked for that were absent during the current rule (reset per rule).
    var unbound: [String] = []

    private var cache: [String: Vec] = [:]
    private static let yes: Set<String> = ["是", "1", "Y", "y", "true", "TRUE"]
    private var _projects: Frame?

    init(scope: RowScope, batch: EnterpriseBatch, bindings: any RuleBindings, parent: Frame? = nil) {
        self.scope = scope
        self.batch = batch
        self.bindings = bindings
        self.parent = parent
        count = scope == .enterprise ? batch.activity.count : batch.projects.count
    }

    /// A frame with `count` rows and no batch data (group evaluation, constant folding).
    init(count: Int, bindings: any RuleBindings = NoBindings()) {
        scope = .enterprise
        let empty = RecordBatch(form: .activity, formVersion: "", fields: [], capacity: 0)
        batch = EnterpriseBatch(activity: empty, dictionary: .standard)
        self.bindings = bindings
        parent = nil
        self.count = count
    }

    /// The project rows of this enterprise frame, sharing this frame as their parent.
    var projects: Frame {
        if let p = _projects { return p }
        let p = Frame(scope: .project, batch: batch, bindings: bindings, parent: self)
        _projects = p
        return p
    }

    var records: RecordBatch { scope == .enterprise ? batch.activity : batch.projects }

    func cached(_ key: String, _ make: () -> Vec) -> Vec {
        if let v = cache[key] { return v }
        let v = make()
        cache[key] = v
        return v
    }

    /// A field's values for this frame's rows; `zero` reads missing numbers as 0 (`on_missing: zero`).
    func field(_ f: FieldDefinition, zero: Bool) -> Vec {
        cached((zero ? "z:" : "f:") + f.code) { load(f, zero: zero) }
    }

    private func load(_ f: FieldDefinition, zero: Bool) -> Vec {
        let rb = records
        if f.isIdentity {
            switch f.code {
            case "uscc": return .text(rb.uscc.map { Optional($0) })
            case "name": return .text(rb.name)
            case "region_code": return .text(rb.regionCode)
            case "industry_code": return .text(rb.industryCode)
            case "submitted_at": return .text(rb.submittedAt)
            case "period":
                return .num(NumVec(v: rb.period.map { Int64($0) * Dec.scale }, ok: [Bool](repeating: true, count: rb.count)))
            default: return Vec.constant(ValueType.of(f) == .number ? .number(nil) : .text(nil), count: count)
            }
        }
        let ownForm: Form = scope == .enterprise ? .activity : .projects
        if f.form != ownForm {
            if scope == .project, f.form == .activity, let parent {
                return parent.field(f, zero: zero).gather(batch.projectOwner)
            }
            return Vec.constant(ValueType.of(f) == .number ? .number(zero ? .zero : nil) : .text(nil), count: count)
        }
        guard let col = rb.column(f.code), col.present.count == count else {
            return Vec.constant(ValueType.of(f) == .number ? .number(zero ? .zero : nil) : .text(nil), count: count)
        }
        if f.type.isNumeric {
            var v = [Int64](repeating: 0, count: count)
            var ok = col.present
            col.numbers.withUnsafeBufferPointer { nums in
                for i in 0..<count where ok[i] {
                    // Beyond ±9.2e12 units the value cannot be a real figure: null, never a trap.
                    let (r, o) = nums[i].multipliedReportingOverflow(by: Dec.milliFactor)
                    if o { ok[i] = false } else { v[i] = r }
                }
            }
            if zero { ok = [Bool](repeating: true, count: count) }
            return .num(NumVec(v: v, ok: ok))
        }
        if f.type == .flag {
            return .bool((0..<count).map { i in
                guard col.present[i], let t = col.texts[i] else { return triUnknown }
                return Self.yes.contains(t) ? triTrue : triFalse
            })
        }
        // The column's own array when a missing value is already nil in it (as `Column.appendMissing` writes
        // it): copying it element by element retained every text of the block, and freeing the copy released
        // them again — the largest share of the evaluator's reference counting.
        if col.texts.count == count, !(0..<count).contains(where: { !col.present[$0] && col.texts[$0] != nil }) {
            return .text(col.texts)
        }
        return .text((0..<count).map { col.present[$0] ? col.texts[$0] : nil })
    }
}
