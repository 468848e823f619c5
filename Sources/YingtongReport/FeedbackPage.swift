import Foundation
import YingtongModel
import YingtongStore

/// The 反馈单 of one enterprise: what each finding means, where on the form, the value sent, the relation that
/// failed with its numbers, and what to do — with the exact line to send back for a 核实性 query.
enum FeedbackPage {
    /// The explanations CSV header ExplanationCSVReader reads (`fixtures/demo-county/2023/说明.csv`).
    static let explanationHeader = "统一社会信用代码,报告期,规则,说明"

    static func explanationLine(_ e: ReportData.EnterpriseFindings, _ item: FeedbackItem) -> String {
        "\(e.uscc),\(e.period),\(item.rule),（请在此写明数据属实的原因）"
    }

    static func action(_ item: FeedbackItem) -> String {
        if item.explanation != nil { return "已收到说明，审核人员将核对；无须再次处理。" }
        switch item.severity {
        case .error: return "请核对原始凭证，更正填报数据后重新报送；更正前本单位数据不计入汇总。"
        case .warning: return "如数据有误，更正后重新报送；如数据属实，请按说明格式写明原因，随报表报送。"
        case .info: return "无须更正，供填报参考。"
        }
    }

    static func context(_ e: ReportData.EnterpriseFindings, items: [FeedbackItem], run: ReportData.Run) -> [String: Any] {
        let sections: [(Severity, String)] = [
            (.error, "一、强制性审核问题（须更正后重新报送）"),
            (.warning, "二、核实性审核问题（请核实：有误则更正，属实则填写说明）"),
            (.info, "三、提示"),
        ]
        var n = 0
        let groups: [[String: Any]] = sections.compactMap { severity, title in
            let list = items.filter { $0.severity == severity }
            guard !list.isEmpty else { return nil }
            let rows: [[String: Any]] = list.map { item in
                n += 1
                return [
                    "n": n, "rule": item.rule, "title": item.ruleTitle ?? "", "message": item.messageZh,
                    "cls": item.severity.rawValue, "severity": item.severity.labelZh,
                    "project": item.projectName ?? "",
                    "hasProject": item.projectName.map { !item.messageZh.contains($0) } ?? false,
                    "fields": item.fields.map { ["code": $0.code, "name": $0.nameZh, "location": $0.locationZh, "value": $0.valueZh] },
                    "hasFields": !item.fields.isEmpty, "hasLocation": item.file != nil || item.line > 0,
                    "observed": item.observed, "expected": item.expected ?? "", "hasExpected": item.expected != nil,
                    "imbalance": item.imbalance ?? "", "hasImbalance": item.imbalance != nil,
                    "action": action(item),
                    "explanation": item.explanation ?? "", "explained": item.explanation != nil,
                    "needsExplanation": item.severity == .warning && item.explanation == nil,
                    "explanationLine": explanationLine(e, item),
                    "noteXML": "<Note rule=\"\(item.rule)\">（请在此写明数据属实的原因）</Note>",
                    "location": item.file.map { "\($0) 第\(item.line)行" } ?? (item.line > 0 ? "第\(item.line)行" : ""),
                ]
            }
            return ["title": title, "count": list.count, "items": rows]
        }
        return [
            "title": "研发统计数据审核反馈单：\(e.name ?? e.uscc)",
            "name": e.name ?? "（名称不详）", "uscc": e.uscc, "period": e.period, "pipeline": run.pipeline,
            "region": run.regionCode, "errors": e.errors, "warnings": e.warnings, "infos": e.infos,
            "groups": groups, "explanationHeader": explanationHeader,
            "hasQueries": items.contains { $0.severity == .warning && $0.explanation == nil },
            "csvName": FeedbackFileName.stem(uscc: e.uscc, period: e.period) + ".csv",
        ]
    }

    /// The same findings as a spreadsheet: one row per finding, UTF-8 with BOM for Excel.
    static func csv(_ e: ReportData.EnterpriseFindings, items: [FeedbackItem]) -> String {
        let header = ["序号", "统一社会信用代码", "单位名称", "报告期", "规则", "规则名称", "审核类别", "项目名称", "问题说明",
                      "涉及指标（表式与行次）", "填报值", "审核关系的实际值", "期望", "差额", "处理方式", "已收到的说明",
                      "说明文件中的一行（核实性问题属实时，表头：\(explanationHeader)）"]
        var lines = [header.map(cell).joined(separator: ",")]
        for (i, item) in items.enumerated() {
            let fields = item.fields.map { "\($0.nameZh)（\($0.locationZh)）" }.joined(separator: "；")
            let values = item.fields.map { "\($0.nameZh)=\($0.valueZh)" }.joined(separator: "；")
            let row = [String(i + 1), e.uscc, e.name ?? "", String(e.period), item.rule, item.ruleTitle ?? "",
                       item.severity.labelZh, item.projectName ?? "", item.messageZh, fields, values, item.observed,
                       item.expected ?? "", item.imbalance ?? "", action(item), item.explanation ?? "",
                       item.severity == .warning && item.explanation == nil ? explanationLine(e, item) : ""]
            lines.append(row.map(cell).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading apostrophe (FORMATS §6).
    /// Scans UTF-8 bytes, not Characters: grapheme breaking made this a tenth of a 反馈单's cost.
    static func cell(_ s: String) -> String {
        var t = s
        let bytes = s.utf8
        if let f = bytes.first {
            let second = bytes.dropFirst().first
            let formula = f == UInt8(ascii: "=") || f == UInt8(ascii: "+") || f == UInt8(ascii: "@")
                || (f == UInt8(ascii: "-") && !(second.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false))
            if formula { t = "'" + t }
        }
        if bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
            t = "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return t
    }
}

/// The 反馈单 CSV's cell quoting, public for tests and other writers of people-facing CSV.
public enum FeedbackCSVCell {
    public static func escape(_ s: String) -> String { FeedbackPage.cell(s) }
}
