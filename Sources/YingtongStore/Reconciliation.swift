import Foundation
import GRDB
import YingtongModel

/// One 107-2 field on which the statistics bureau's export and the enterprise's own submission disagree.
public struct Disagreement: Sendable, Hashable {
    public var uscc: String
    public var period: Int
    public var field: String
    /// The value the store keeps (the authoritative source's) and the other one.
    public var kept: Milli?
    public var other: Milli?
    public var keptSource: Int32
    public var keptLine: Int32
}

extension RunWriter {
    /// Compares, field by field, every current 107-2 record with the superseded submissions of the same
    /// (uscc, period) that came from the other side (`sideA` vs everything else in `sideA ∪ sideB`): resubmissions
    /// within one side are corrections, not disagreements. Numbers differing by more than `tolerance` (in the
    /// field's canonical unit; a missing value on one side only is a difference too) are returned.
    public func disagreements(sideA: [Int32], sideB: [Int32], tolerance: Milli) throws -> [Disagreement] {
        guard !sideA.isEmpty, !sideB.isEmpty else { return [] }
        let run = runID
        let schema = store.schemas[.activity]!
        let a = sideA.map(String.init).joined(separator: ","), both = (sideA + sideB).map(String.init).joined(separator: ",")
        let numeric = schema.fields.filter { $0.field?.type.isNumeric == true }
        return try withDatabase { db in
            // Against the other side's latest submission only: its earlier ones were corrected by it.
            let pairs = try Row.fetchAll(db, sql: """
                SELECT wid, hid FROM (
                  SELECT w.id AS wid, h.id AS hid, w.uscc, w.period,
                         ROW_NUMBER() OVER (PARTITION BY w.id ORDER BY h.submitted_key DESC, h.sequence DESC) AS rn
                  FROM record w
                  JOIN record_history h ON h.run_id = w.run_id AND h.uscc = w.uscc AND h.period = w.period
                  WHERE w.run_id = ? AND w.source_index IN (\(both)) AND h.source_index IN (\(both))
                    AND (w.source_index IN (\(a))) <> (h.source_index IN (\(a)))
                ) WHERE rn = 1 ORDER BY uscc, period
                """, arguments: [run])
            var out: [Disagreement] = []
            for p in pairs {
                guard let w = try Row.fetchOne(db, sql: "SELECT * FROM record WHERE id = ?", arguments: [p["wid"] as Int64]),
                      let h = try Row.fetchOne(db, sql: "SELECT * FROM record_history WHERE id = ?", arguments: [p["hid"] as Int64])
                else { continue }
                let kept = StoredValue.decode(row: w, schema: schema), other = StoredValue.decode(row: h, schema: schema)
                for c in numeric {
                    let x = kept[c.name]?.milli, y = other[c.name]?.milli
                    let differs: Bool
                    switch (x, y) {
                    case (nil, nil): differs = false
                    case let (x?, y?): differs = (x - y).raw.magnitude > tolerance.raw.magnitude
                    default: differs = true
                    }
                    if differs {
                        out.append(Disagreement(uscc: w["uscc"], period: w["period"], field: c.name, kept: x, other: y,
                                                keptSource: w["source_index"], keptLine: w["line"]))
                    }
                }
            }
            return out
        }
    }
}
