import Foundation
import Mustache
import YingtongModel
import YingtongStore

/// The brief (DOMAIN §2.1): the seed's paragraph 一、（一） with every figure filled from the stored indicators.
///
/// The wording is a Mustache file a bureau can edit (`pipelines/brief.mustache`); each indicator appears in it as
/// `{{rd_exp.value}}`, `{{rd_exp.change_verb}}{{rd_exp.change_abs}}`, `{{rd_exp.growth}}`, `{{rd_exp.completion}}`,
/// `{{rd_exp.rank}}`. A figure whose input is missing renders as "（缺数据：…）" naming that input: the brief never
/// shows a number the data do not give.
///
/// ```swift
/// let text = try Brief(template: String(contentsOfFile: "pipelines/brief.mustache")).render(indicators, region: "330727", period: 2023)
/// ```
public struct Brief {
    public let template: MustacheTemplate

    public init(template text: String) throws {
        do { template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text) } catch {
            throw YingtongError("E-BRIEF-TEMPLATE", "简报模板语法错误：\(error)")
        }
    }

    /// What each indicator needs, for the "（缺数据：…）" of an indicator the run did not compute at all.
    static let inputs: [String: String] = [
        "rd_exp": "107-2 研发活动表", "rd_exp_cost_total": "107-2 研发活动表",
        "rd_intensity": "107-2 研发活动表和宏观数据（地区生产总值）",
        "rd_fte": "107-1 研发项目表（人月）", "rd_fte_per_10k": "107-1 研发项目表和宏观数据（就业人员）",
        "ind_above_scale": "规上企业名录", "ind_rd_active": "规上企业名录和 107-2 研发活动表",
        "ind_rd_active_share": "规上企业名录和 107-2 研发活动表",
        "hightech_output_share": "规上工业总产值和高新技术产业目录",
        "hte_pool": "高企培育库名单（registry.hte_candidates）", "hte_recommended": "高企推荐申报名单（registry.hte_candidates）",
        "hte_passed": "高企评审结果（registry.hte_candidates）", "hte_new": "高新技术企业名单（registry.hte，含认定年份）",
        "hte_count": "高新技术企业名单（registry.hte）", "tsme_recommended": "科技型中小企业申报名单（registry.tsme_applications）",
        "tsme_count": "科技型中小企业入库名单（registry.tsme）",
        "tech_contract_firms": "技术合同登记（registry.tech_contract）", "tech_contract_count": "技术合同登记（registry.tech_contract）",
        "tech_contract_amount": "技术合同登记（registry.tech_contract）",
    ]

    /// Codes the default template uses; every one gets an entry in the context, computed or not.
    static let codes = Array(inputs.keys) + ["rd_composite"]

    public func render(_ indicators: [IndicatorRow], region: String, period: Int, regionName: String? = nil) -> String {
        render(context(indicators, region: region, period: period, regionName: regionName))
    }

    public func render(_ context: [String: Any]) -> String { template.render(context) }

    public func context(_ indicators: [IndicatorRow], region: String, period: Int, regionName: String?) -> [String: Any] {
        let rows = Dictionary(indicators.filter { $0.regionCode == region && $0.period == period }.map { ($0.code, $0) },
                              uniquingKeysWith: { a, _ in a })
        var context: [String: Any] = ["period": period, "prev_period": period - 1, "region": region,
                                      "region_name": regionName ?? region]
        for code in Set(Self.codes).union(rows.keys) {
            context[code] = Self.figures(code: code, row: rows[code], period: period)
        }
        return context
    }

    /// Units as the bureau writes them in prose (人•年, not 人年).
    static func unitText(_ unit: String) -> String {
        unit.replacingOccurrences(of: "人年", with: "人•年")
    }

    static func missing(_ what: String) -> String { "（缺数据：\(what)）" }

    static func figures(code: String, row: IndicatorRow?, period: Int) -> [String: Any] {
        guard let row else {
            let need = code == "rd_composite"
                ? "研发三项综合排名需要同一次运行中多个地区的指标（市级运行）"
                : "本次运行未计算指标 \(code)，需要\(inputs[code] ?? "相应的输入数据")"
            let m = missing(need)
            return ["value": m, "shown": m, "change_shown": m, "change_verb": "增长", "change_abs": m, "growth": m, "growth_verb": "增长",
                    "growth_abs": m, "completion": m, "rank": m, "target": m, "unit": ""]
        }
        let unit = row.unit
        let value = row.value.map { Fmt.value($0, unit: unit) } ?? missing(row.note ?? "指标 \(code) 的输入不全")
        let prevMissing = missing("\(period - 1)年的\(row.nameZh)（上期数据库中没有该指标）")
        var out: [String: Any] = ["value": value, "unit": unit, "name": row.nameZh,
                                  "shown": row.value == nil ? value : value + Self.unitText(unit)]
        if let c = row.change {
            out["change_verb"] = c < 0 ? "减少" : "增长"
            out["change_abs"] = Fmt.value(c < 0 ? -c : c, unit: row.changeUnit ?? unit)
            out["change"] = Fmt.value(c, unit: row.changeUnit ?? unit)
            out["change_shown"] = (out["change_abs"] as! String) + Self.unitText(row.changeUnit ?? unit)
        } else {
            out["change_verb"] = "增长"
            out["change_abs"] = row.value == nil ? value : prevMissing
            out["change"] = out["change_abs"]
            out["change_shown"] = out["change_abs"]
        }
        if let g = row.growthRate {
            out["growth"] = Fmt.value(g, unit: "%") + "%"
            out["growth_verb"] = g < 0 ? "下降" : "提高"
            out["growth_abs"] = Fmt.value(g < 0 ? -g : g, unit: "%") + "%"
        } else {
            let m = row.value == nil ? value : (row.prevValue == nil ? prevMissing : missing("上年值为0，无法计算增长率"))
            out["growth"] = m
            out["growth_verb"] = "提高"
            out["growth_abs"] = m
        }
        out["target"] = row.target.map { Fmt.value($0, unit: unit) } ?? missing("流水线文件未设定 \(code) 的目标（targets）")
        out["completion"] = row.completionRate.map { Fmt.value($0, unit: "%") + "%" }
            ?? missing(row.target == nil ? "流水线文件未设定 \(code) 的目标（targets）" : "指标值缺失，无法计算完成率")
        out["rank"] = row.rank.map(String.init) ?? missing("排名需要同一次运行中多个地区的指标（市级运行）")
        return out
    }
}
