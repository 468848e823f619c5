import Foundation
import YingtongModel
import YingtongExport
import YingtongIndicators

/// Where a run's warehouse copy goes: a URL written in the pipeline file, or the name of an environment variable
/// holding one (so a password need not sit in the file).
public enum WarehouseTarget: Sendable, Hashable {
    case url(String)
    case environment(String)

    /// The URL to connect to; an unset variable is an error that names it.
    public func resolve(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        switch self {
        case .url(let u): return u
        case .environment(let name):
            guard let v = environment[name], !v.isEmpty else {
                throw YingtongError("E-PIPELINE-FIELD", "outputs.postgres 指定的环境变量 \(name) 未设置")
            }
            return v
        }
    }
}

extension PipelineDefinition {
    /// Reads the multi-region and output settings of issue 6:
    ///
    /// ```yaml
    /// region: "330700"                         # the city
    /// regions: ["330702", "330723", "330727"]  # its counties: indicators per county, for the city, and ranks
    /// ranking: {weights: {rd_intensity: 2, rd_fte_per_10k: 1, ind_rd_active_share: 1}}
    /// outputs:
    ///   dir: ../out/demo-city/{period}
    ///   exports: [{table: indicator, format: xlsx}, {table: record, format: csv, excel: true}]
    ///   postgres: {env: YINGTONG_PG_URL}      # or a URL: postgres://user:pw@127.0.0.1/yingtong
    /// ```
    mutating func readOutputsAndRegions(root: [String: Any], outputs: [String: Any],
                                        fail: (String) -> YingtongError) throws {
        if let raw = root["regions"] {
            guard let list = raw as? [Any] else { throw fail("regions 应为行政区划代码列表") }
            regions = list.map { "\($0)" }
            for r in regions where !RegionCode.isWellFormed(r) { throw fail("regions 中的 \(r) 不是6位行政区划代码") }
            let prefix = RegionScope.prefix(of: region)
            for r in regions where !r.hasPrefix(prefix) || r == region {
                throw fail("regions 中的 \(r) 不属于 region \(region)（应以 \(prefix) 开头）")
            }
            if Set(regions).count != regions.count { throw fail("regions 有重复的代码") }
        }
        if let raw = root["ranking"] {
            guard let m = raw as? [String: Any], let w = m["weights"] as? [String: Any] else {
                throw fail("ranking 应为 {weights: {rd_intensity: 1, rd_fte_per_10k: 1, ind_rd_active_share: 1}}")
            }
            var weights: [String: Decimal] = [:]
            let allowed: Set<String> = ["rd_intensity", "rd_fte_per_10k", "ind_rd_active_share"]
            for (k, v) in w {
                guard allowed.contains(k) else { throw fail("ranking.weights 的 \(k) 不是研发三项之一（\(allowed.sorted().joined(separator: "、"))）") }
                guard let d = Decimal(string: "\(v)", locale: Locale(identifier: "en_US_POSIX")), d >= 0 else {
                    throw fail("ranking.weights.\(k) 应为非负数")
                }
                weights[k] = d
            }
            rankingWeights = weights
        }
        if let raw = outputs["exports"] {
            guard let list = raw as? [Any] else { throw fail("outputs.exports 应为列表") }
            for (i, item) in list.enumerated() {
                guard let m = item as? [String: Any] else { throw fail("outputs.exports 第 \(i + 1) 项应为映射") }
                let tables: [String]
                if let t = m["table"] as? String { tables = [t] }
                else if let ts = m["tables"] as? [Any] { tables = ts.map { "\($0)" } }
                else { throw fail("outputs.exports 第 \(i + 1) 项缺少 table") }
                guard let f = m["format"] as? String, let format = ExportFormat(rawValue: f) else {
                    throw fail("outputs.exports 第 \(i + 1) 项的 format 应为 \(ExportFormat.allCases.map(\.rawValue).joined(separator: "、"))")
                }
                if let file = m["file"] as? String, file.contains("/") {
                    throw fail("outputs.exports 第 \(i + 1) 项的 file 只能是文件名（写在 outputs.dir 中）")
                }
                exports.append(ExportRequest(tables: tables, format: format, excel: (m["excel"] as? Bool) ?? false,
                                             file: m["file"] as? String))
            }
        }
        if let raw = outputs["postgres"] {
            if let url = raw as? String {
                postgres = .url(url)
            } else if let m = raw as? [String: Any], let env = m["env"] as? String {
                postgres = .environment(env)
            } else if let m = raw as? [String: Any], let url = m["url"] as? String {
                postgres = .url(url)
            } else {
                throw fail("outputs.postgres 应为 postgres:// 地址或 {env: 变量名}")
            }
        }
    }
}

