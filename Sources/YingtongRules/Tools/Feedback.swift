import Foundation
import YingtongModel

/// The Chinese 反馈 text sent back to an enterprise (or a county desk): its findings grouped by severity, with
/// what to do — 强制性 findings must be corrected and resubmitted; 核实性 ones corrected, or explained in a
/// 上报说明 if the figures are true (联网直报 practice, DOMAIN §3).
///
/// ```swift
/// print(Feedback.render(violations, enterprise: "义乌市某某机械有限公司"))
/// ```
public enum Feedback {
    public static func render(_ violations: [Violation], enterprise: String? = nil, titles: [String: String] = [:]) -> String {
        var s = ""
        let head = violations.first.map { "（统一社会信用代码 \($0.uscc)，\($0.period) 年）" } ?? ""
        s += "研发统计数据审核反馈" + (enterprise.map { "：\($0)" } ?? "") + head + "\n"
        if violations.isEmpty {
            return s + "\n经审核，未发现需要更正或说明的问题。\n"
        }
        let bySeverity = Dictionary(grouping: violations, by: \.severity)
        let sections: [(Severity, String, String)] = [
            (.error, "一、强制性审核问题（须更正后重新报送）",
             "以下问题违反报表的逻辑关系，数据在更正前不计入汇总。请核对原始凭证，更正后重新报送。"),
            (.warning, "二、核实性审核问题（请核实：有误则更正，属实则填写说明）",
             "以下数据可能有误。请逐条核实：如确有错误，请更正后重新报送；如情况属实，请在“上报说明”中写明原因后报送。"),
            (.info, "三、提示", "以下事项无须更正，供填报参考。"),
        ]
        var n = 0
        for (sev, title, advice) in sections {
            guard let list = bySeverity[sev], !list.isEmpty else { continue }
            s += "\n" + title + "（\(list.count) 条）\n" + advice + "\n"
            for v in list.sorted(by: { ($0.projectName ?? "", $0.rule) < ($1.projectName ?? "", $1.rule) }) {
                n += 1
                var line = "\(n). [\(v.rule)"
                if let t = titles[v.rule] { line += " \(t)" }
                line += "] " + v.messageZh
                if let p = v.projectName, !v.messageZh.contains(p) { line += "（项目：\(p)）" }
                s += line + "\n"
                var detail: [String] = []
                if !v.observed.isEmpty { detail.append("填报值：" + v.observed) }
                if let imb = v.imbalance { detail.append("差额：" + imb) }
                if v.line > 0 { detail.append("位置：第 \(v.line) 行") }
                if !detail.isEmpty { s += "   " + detail.joined(separator: "；") + "\n" }
            }
        }
        return s
    }
}

extension RulePack {
    /// Rule id → Chinese title, for feedback and reports.
    public var titlesZh: [String: String] {
        var t: [String: String] = [:]
        for r in rules { if let n = r.nameZh { t[r.id] = n } }
        return t
    }
}
