import Foundation
import YingtongModel
import YingtongStore

/// Bureau vs enterprise (FORMATS §1 `bureau_rd`): when the statistics bureau's export and the enterprise's own
/// submission carry the same (uscc, period), the pipeline's authority decides which one the store keeps, and
/// every field that differs beyond the tolerance becomes a level-3 query (RC01) carrying both values, so the
/// two offices can settle it. Neither value is changed.
enum Reconcile {
    static let rule = "RC01"

    static func findings(writer: RunWriter, bureau: [Int32], enterprise: [Int32], authority: String,
                         tolerance: Decimal, dictionary: FieldDictionary = .standard) throws -> [Violation] {
        guard !bureau.isEmpty, !enterprise.isEmpty else { return [] }
        let tol = NumberText.parse("\(tolerance)") ?? Milli(units: 1)
        let bureauWins = authority == "bureau_rd"
        let winnerName = bureauWins ? "统计局数据" : "企业报送数据"
        return try writer.disagreements(sideA: bureau, sideB: enterprise, tolerance: tol).map { d in
            // `kept` is the record the store holds: the bureau's when it is authoritative (and was sent).
            let keptIsBureau = bureau.contains(d.keptSource)
            let b = keptIsBureau ? d.kept : d.other, e = keptIsBureau ? d.other : d.kept
            let field = dictionary.field(d.field)
            let unit = field?.unit ?? ""
            func text(_ m: Milli?) -> String { m.map { "\($0)\(unit)" } ?? "未填" }
            let imbalance: String? = (b != nil && e != nil) ? (e! - b!).description : nil
            return Violation(
                rule: rule, severity: .warning, level: 3, uscc: d.uscc, period: d.period, fields: [d.field],
                observed: "bureau=\(b?.description ?? "null"); enterprise=\(e?.description ?? "null")",
                expected: d.kept?.description, imbalance: imbalance,
                messageZh: "\(rule) \(field?.name ?? d.field)（\(d.field)）统计局数据为 \(text(b))，企业报送为 \(text(e))，相差超过 \(tolerance)\(unit == "千元" ? "千元" : "")；已以\(winnerName)为准入库，请两方核实",
                sourceIndex: d.keptSource, line: d.keptLine)
        }
    }
}
