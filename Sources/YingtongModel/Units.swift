import Foundation

/// Unit conversion to each dimension's canonical unit (DOMAIN §5.6): 元/千元/万元/亿元 → 千元, 万人 → 人.
public struct UnitTable: Sendable {
    public struct Dimension: Sendable {
        public let canonical: String
        public let factors: [String: UnitFactor]
    }
    public let dimensions: [FieldType: Dimension]

    init(raw: [String: Any]) throws {
        var dims: [FieldType: Dimension] = [:]
        for (key, value) in raw {
            guard let type = FieldType(rawValue: key), let m = value as? [String: Any] else {
                throw ReferenceError.malformed("fields.yaml", "units.\(key) 无效")
            }
            var factors: [String: UnitFactor] = [:]
            for (unit, f) in (m["accepts"] as? [String: Any]) ?? [:] {
                guard let factor = UnitFactor(decimal: "\(f)") else {
                    throw ReferenceError.malformed("fields.yaml", "单位 \(unit) 的换算系数无效：\(f)")
                }
                factors[unit] = factor
            }
            dims[type] = Dimension(canonical: (m["canonical"] as? String) ?? "", factors: factors)
        }
        dimensions = dims
    }

    /// The factor that turns a value in `unit` into the canonical unit of `type`; nil when the unit does not
    /// belong to that dimension (e.g. 万元 on a head count).
    public func factor(for unit: String, type: FieldType) -> UnitFactor? {
        let u = HeaderText.halfWidth(unit).trimmingCharacters(in: .whitespaces)
        if u.isEmpty { return .one }
        guard let dim = dimensions[type] else { return nil }
        if u == dim.canonical { return .one }
        return dim.factors[u]
    }

    /// Whether `text` names a unit of any dimension (used to recognise a units row under the header).
    public func isUnitName(_ text: String) -> Bool {
        let u = HeaderText.halfWidth(text).trimmingCharacters(in: .whitespaces)
        if u.isEmpty { return false }
        return dimensions.values.contains { $0.canonical == u || $0.factors[u] != nil }
    }
}
