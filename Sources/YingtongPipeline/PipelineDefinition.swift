import Foundation
import Yams
import YingtongModel
import YingtongExport

/// A pipeline file (`pipelines/*.yaml`): which sources to read, which rules apply, the previous store, targets
/// and outputs. A new county or a new cycle is a new file, never new code (GUIDE.md "Pipelines are data").
///
/// ```yaml
/// pipeline: demo-county
/// region: "330727"
/// period: 2023
/// store: ../out/demo-county/yingtong.sqlite
/// sources:
///   - {role: enterprise_rd, form: "107-2", path: "../fixtures/demo-county/{period}/107-2_*.csv", unit: 千元}
/// ```
public struct PipelineDefinition: Sendable {
    public struct Source: Sendable, Hashable {
        public var role: String
        public var form: Form?
        /// A path or glob, relative to the pipeline file; `{period}` is replaced by the run's period.
        public var path: String
        public var encoding: String
        public var unit: String?
        public var separator: UInt8
        public var format: String?
        /// An optional source may match no file (e.g. explanations, which only some cycles have).
        public var optional: Bool = false
    }

    public var id: String
    public var nameZh: String?
    public var region: String
    /// Extra region codes counted as this county for V003 (e.g. the prefecture where firms register).
    public var regionAliases: [String]
    public var period: Int
    public var storePath: String
    public var previousPath: String?
    public var outputsDir: String
    public var sources: [Source]
    public var rulePacks: [String]
    public var indicatorSettings: [String: String]
    public var targets: [String: Decimal]
    public var batchSize: Int
    /// When the bureau's export and an enterprise's own submission carry the same (uscc, period): which role's
    /// record the store keeps (`bureau_rd` by default, DOMAIN §0.1), and the tolerance (in a field's canonical
    /// unit: 千元 for money) beyond which a field that differs is reported (RC01).
    public var reconcileAuthority: String = "bureau_rd"
    public var reconcileTolerance: Decimal = 1
    /// Resource limits for every input of the run (`limits:`); defaults when the file has none.
    public var limits = InputLimits()
    /// `outputs: {feedback: false}` skips the per-enterprise 反馈单 pages (report.html is always written): a
    /// province-sized benchmark need not write a page per enterprise.
    public var feedbackPages: Bool = true
    /// The folder of the pipeline file: relative paths resolve against it.
    public var baseDirectory: URL
    public var filePath: String
    /// Multi-region runs, exports and the warehouse (PipelineDefinition+Outputs.swift).
    public var regions: [String] = []
    public var rankingWeights: [String: Decimal]?
    public var exports: [ExportRequest] = []
    public var postgres: WarehouseTarget?

    public static let roles: Set<String> = [
        "enterprise_rd", "bureau_rd", "torch_rd", "roster", "macro", "registry.hte", "registry.tsme",
        "registry.tax_deduction", "registry.tech_contract", "registry.rd_institution", "registry.hte_candidates",
        "registry.tsme_applications", "registry.tech_loan", "registry.platform", "explanations",
        "registry.patent", "registry.gov_funding",
    ]

    /// Reads and checks a pipeline file; every problem is a `YingtongError` with a Chinese reason (exit code 2).
    public static func load(path: String, periodOverride: Int? = nil) throws -> PipelineDefinition {
        let url = URL(fileURLWithPath: path)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw YingtongError("E-PIPELINE-READ", "无法读取流水线文件 \(path)")
        }
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            throw YingtongError("E-PIPELINE-YAML", "流水线文件 \(path) 不是有效的 YAML：\(error)")
        }
        guard let root = node as? [String: Any] else {
            throw YingtongError("E-PIPELINE-YAML", "流水线文件 \(path) 的顶层应为映射（键: 值）")
        }
        func fail(_ why: String) -> YingtongError { YingtongError("E-PIPELINE-FIELD", "流水线文件 \(path)：\(why)") }
        let known: Set<String> = ["pipeline", "name_zh", "region", "region_aliases", "period", "store", "previous",
                                  "outputs", "sources", "rules", "indicators", "targets", "batch_size", "reference",
                                  "reconcile", "regions", "ranking", "limits"]
        for key in root.keys where !known.contains(key) {
            throw fail("未知的键 \(key)（可用：\(known.sorted().joined(separator: "、"))）")
        }
        guard let id = root["pipeline"].map({ "\($0)" }), !id.isEmpty else { throw fail("缺少 pipeline（流水线标识）") }
        guard let region = root["region"].map({ "\($0)" }), RegionCode.isWellFormed(region) else {
            throw fail("region 应为6位行政区划代码")
        }
        let period: Int
        if let p = periodOverride { period = p } else if let p = root["period"] as? Int { period = p } else {
            throw fail("缺少 period（报告年度），或用 --period 指定")
        }
        guard (1990...2100).contains(period) else { throw fail("period \(period) 不是合理的报告年度") }
        guard let store = root["store"] as? String else { throw fail("缺少 store（SQLite 存储文件路径）") }
        guard let rawSources = root["sources"] as? [Any], !rawSources.isEmpty else { throw fail("缺少 sources（数据来源列表）") }
        var sources: [Source] = []
        for (i, raw) in rawSources.enumerated() {
            guard let m = raw as? [String: Any] else { throw fail("sources 第 \(i + 1) 项应为映射") }
            guard let role = m["role"] as? String, roles.contains(role) else {
                throw fail("sources 第 \(i + 1) 项的 role 无效（可用：\(roles.sorted().joined(separator: "、"))）")
            }
            guard let p = m["path"] as? String else { throw fail("sources 第 \(i + 1) 项缺少 path") }
            var form: Form?
            if let f = m["form"].map({ "\($0)" }) {
                guard let parsed = Form(rawValue: f) else { throw fail("sources 第 \(i + 1) 项的 form \(f) 无效（\(Form.allCases.map(\.rawValue).joined(separator: "、"))）") }
                form = parsed
            } else {
                form = Form.forRole(role)
            }
            var separator = UInt8(ascii: ",")
            switch (m["separator"] as? String) ?? "," {
            case ",": break
            case ";": separator = UInt8(ascii: ";")
            case "\\t", "\t", "tab": separator = 0x09
            case let other: throw fail("sources 第 \(i + 1) 项的 separator “\(other)” 无效（逗号、分号或 tab）")
            }
            if let unit = m["unit"] as? String, FieldDictionary.standard.units.factor(for: unit, type: .money) == nil {
                throw fail("sources 第 \(i + 1) 项的 unit “\(unit)” 不是金额单位（元、千元、万元、亿元）")
            }
            sources.append(Source(role: role, form: form, path: p, encoding: (m["encoding"] as? String) ?? "auto",
                                  unit: m["unit"] as? String, separator: separator, format: m["format"] as? String,
                                  optional: (m["optional"] as? Bool) ?? false))
        }
        var targets: [String: Decimal] = [:]
        for (k, v) in (root["targets"] as? [String: Any]) ?? [:] {
            guard let d = Decimal(string: "\(v)", locale: Locale(identifier: "en_US_POSIX")) else { throw fail("targets.\(k) 不是数字") }
            targets[k] = d
        }
        var indicatorSettings: [String: String] = [:]
        for (k, v) in (root["indicators"] as? [String: Any]) ?? [:] { indicatorSettings[k] = "\(v)" }
        var authority = "bureau_rd", tolerance: Decimal = 1
        if let r = root["reconcile"] {
            guard let m = r as? [String: Any] else { throw fail("reconcile 应为映射：{authority: bureau, tolerance: 1}") }
            switch (m["authority"] as? String) ?? "bureau" {
            case "bureau", "bureau_rd": authority = "bureau_rd"
            case "enterprise", "enterprise_rd": authority = "enterprise_rd"
            case let other: throw fail("reconcile.authority “\(other)” 无效（bureau 或 enterprise）")
            }
            if let t = m["tolerance"] {
                guard let d = Decimal(string: "\(t)", locale: Locale(identifier: "en_US_POSIX")), d >= 0 else {
                    throw fail("reconcile.tolerance 应为非负数（千元）")
                }
                tolerance = d
            }
        }
        let outputs = (root["outputs"] as? [String: Any]) ?? [:]
        let base = url.deletingLastPathComponent()
        let subst = { (s: String) in s.replacingOccurrences(of: "{period}", with: String(period)) }
        var limits = InputLimits()
        if let l = root["limits"] {
            guard let m = l as? [String: Any] else { throw fail("limits 应为映射（键: 正整数）") }
            do { limits = try InputLimits(settings: m) } catch let e as YingtongError { throw fail(e.messageZh) }
        }
        var definition = PipelineDefinition(
            id: id, nameZh: root["name_zh"] as? String, region: region,
            regionAliases: ((root["region_aliases"] as? [Any]) ?? []).map { "\($0)" },
            period: period, storePath: subst(store), previousPath: (root["previous"] as? String).map(subst),
            outputsDir: subst((outputs["dir"] as? String) ?? "out/\(id)/{period}"),
            sources: sources.map { var s = $0; s.path = subst(s.path); return s },
            rulePacks: ((root["rules"] as? [Any]) ?? []).map { "\($0)" },
            indicatorSettings: indicatorSettings, targets: targets,
            batchSize: (root["batch_size"] as? Int) ?? 4096, reconcileAuthority: authority,
            reconcileTolerance: tolerance, baseDirectory: base, filePath: path)
        definition.limits = limits
        definition.feedbackPages = (outputs["feedback"] as? Bool) ?? true
        try definition.readOutputsAndRegions(root: root, outputs: outputs, fail: fail)
        return definition
    }

    /// A path of the pipeline resolved against the pipeline file's folder.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return baseDirectory.appendingPathComponent(path).standardizedFileURL.path
    }

    /// The files a source names, sorted so that a run is repeatable; an empty match is an error.
    public func files(of source: Source) throws -> [String] {
        let pattern = resolve(source.path)
        let matches = Glob.expand(pattern)
        guard !matches.isEmpty || source.optional else {
            throw YingtongError("E-INPUT-MISSING", "来源 \(source.role) 的路径 \(source.path) 没有匹配到任何文件（\(pattern)）")
        }
        return matches
    }
}

/// Shell-style `*` and `?` in the last path component, through glibc's glob(3).
enum Glob {
    static func expand(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
        }
        return out.sorted()
    }
}
