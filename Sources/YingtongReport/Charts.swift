import Foundation
import YingtongModel
import YingtongStore

/// Geometry of the report's SVG bar charts. The markup is in the templates; this computes only positions and
/// lengths (the product's own layout), so a chart is a handful of numbers per bar and never a script.
enum Charts {
    /// Rule hits as horizontal bars, one per (rule, severity), longest first. At most `limit` bars; the rest
    /// are summed into one "其余规则" bar so the chart stays readable at any number of violations.
    static func ruleHits(_ hits: [ReportData.RuleHit], titles: [String: String], limit: Int = 30) -> [String: Any] {
        var rows: [(label: String, count: Int, severity: Severity?)] = hits.prefix(limit).map {
            let title = titles[$0.rule].map { " \($0)" } ?? ""
            return ("\($0.rule)\(title)", $0.violations, $0.severity)
        }
        if hits.count > limit {
            let rest = hits.dropFirst(limit)
            rows.append(("其余 \(rest.count) 条规则", rest.reduce(0) { $0 + $1.violations }, nil))
        }
        let labelWidth = 300.0, barArea = 380.0, rowHeight = 22.0, top = 8.0
        let maxCount = Double(rows.map(\.count).max() ?? 1)
        let bars: [[String: Any]] = rows.enumerated().map { i, r in
            let y = top + Double(i) * rowHeight
            let w = max(1, barArea * Double(r.count) / max(maxCount, 1))
            return [
                "label": String(r.label.prefix(22)),
                "count": Fmt.int(r.count),
                "x": f(labelWidth), "y": f(y + 3), "width": f(w), "height": f(rowHeight - 6),
                "textY": f(y + rowHeight / 2 + 4), "countX": f(labelWidth + w + 6), "labelX": f(labelWidth - 8),
                "cls": r.severity.map(\.rawValue) ?? "rest",
                "severity": r.severity?.labelZh ?? "合计",
            ]
        }
        return ["width": f(labelWidth + barArea + 80), "height": f(top * 2 + Double(rows.count) * rowHeight), "bars": bars,
                "empty": rows.isEmpty]
    }

    /// One small vertical bar chart per indicator: last year, this year, and the other regions of the period.
    static func indicator(_ row: IndicatorRow, peers: [IndicatorRow]) -> [String: Any] {
        var items: [(label: String, value: Decimal?, cls: String)] = [
            ("\(row.period - 1)年", row.prevValue, "prev"),
            ("\(row.period)年", row.value, "current"),
        ]
        for p in peers.sorted(by: { $0.regionCode < $1.regionCode }) {
            items.append((p.regionCode, p.value, "peer"))
        }
        let barWidth = 44.0, gap = 18.0, plotHeight = 140.0, top = 24.0, left = 16.0
        let maxValue = items.compactMap { $0.value.map { NSDecimalNumber(decimal: $0).doubleValue } }.map(abs).max() ?? 0
        let bars: [[String: Any]] = items.enumerated().map { i, item in
            let x = left + Double(i) * (barWidth + gap)
            let v = item.value.map { NSDecimalNumber(decimal: $0).doubleValue } ?? 0
            let h = maxValue > 0 ? plotHeight * abs(v) / maxValue : 0
            return [
                "x": f(x), "y": f(top + plotHeight - h), "width": f(barWidth), "height": f(max(h, item.value == nil ? 0 : 1)),
                "cls": item.cls, "label": item.label, "labelX": f(x + barWidth / 2), "labelY": f(top + plotHeight + 16),
                "value": item.value.map { Fmt.value($0, unit: row.unit) } ?? "缺数据",
                "valueY": f(top + plotHeight - h - 5),
            ]
        }
        return [
            "title": row.nameZh, "unit": row.unit,
            "width": f(left * 2 + Double(items.count) * (barWidth + gap)), "height": f(top + plotHeight + 28),
            "baseY": f(top + plotHeight), "baseX2": f(left + Double(items.count) * (barWidth + gap)),
            "bars": bars,
        ]
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}
