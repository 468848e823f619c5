import Foundation
import GRDB
import YingtongModel
import YingtongStore

/// Writes the people-facing report of one run into a folder: `report.html` (summary, rule-hit chart, indicators,
/// 研发三项 charts, the omission list, the first page of enterprises), `feedback/index-N.html` (every enterprise
/// with findings, 500 a page) and one `feedback/<USCC>-<period>.html` and `.csv` per enterprise.
///
/// The report stays small at any number of violations: findings are aggregated by rule, the omission list is cut
/// at ``omissionRows`` (the whole list is in 应统尽统排查清单.csv), and the per-finding detail lives only in the
/// enterprises' own pages.
///
/// ```swift
/// let summary = try store.read { db in
///     try CycleReport(templates: .bundled()).write(db, store: store, run: runID, to: outputs)
/// }
/// ```
public struct CycleReport {
    public struct Summary: Sendable {
        public var reportPath: String
        public var reportBytes: Int
        public var feedbackPages: Int
        public var indexPages: Int
        public var largestFeedbackBytes: Int
    }

    public let templates: ReportTemplates
    /// Rule id → Chinese title, from the run's rule packs.
    public var titles: [String: String]
    public var pageSize = 500
    public var omissionRows = 200
    /// Enterprises listed in report.html itself; the rest are on the list pages (feedback/index-N.html). Kept short
    /// so the report opens in about a second with tens of thousands of findings (issue 7).
    public var reportRows = 100
    /// Called after each enterprise's 反馈单 with (done, total), for a progress bar.
    public var onPage: ((Int, Int) -> Void)?
    /// Whether to write each enterprise's 反馈单 (the enterprise list and its links are written either way).
    public var feedbackPages = true

    public init(templates: ReportTemplates, titles: [String: String] = [:]) {
        self.templates = templates
        self.titles = titles
    }

    public func write(_ db: Database, store: Store, run: Int64, to dir: String) throws -> Summary {
        let data = try ReportData.load(db, store: store, run: run, omissionRows: omissionRows)
        let fm = FileManager.default
        let feedbackDir = dir + "/feedback"
        try fm.createDirectory(atPath: feedbackDir, withIntermediateDirectories: true)

        // The enterprises stream from the store a list page at a time; only the page being written is held.
        let pageCount = max(1, (data.enterpriseCount + pageSize - 1) / pageSize)
        var page: [ReportData.EnterpriseFindings] = []
        page.reserveCapacity(pageSize)
        var firstPage: [ReportData.EnterpriseFindings] = []
        var written = 0, done = 0, largest = 0
        func writePage() throws {
            written += 1
            if written == 1 { firstPage = Array(page.prefix(reportRows)) }
            let html = try templates.render(try indexContext(data, page: page[...], number: written, of: pageCount, prefix: ""),
                                            "enterprises")
            try write(html, to: feedbackDir + "/index-\(written).html")
            page.removeAll(keepingCapacity: true)
        }
        try ReportData.forEachEnterprise(db, run: run, enterprises: data.enterpriseCount,
                                         records: data.recordsByStatus.values.reduce(0, +)) { e in
            if feedbackPages {
                let items = try ReportData.feedback(db, store: store, run: run, uscc: e.uscc, period: e.period,
                                                    inputs: data.run.inputs, titles: titles)
                let stem = FeedbackFileName.stem(uscc: e.uscc, period: e.period)
                let html = try templates.render(FeedbackPage.context(e, items: items, run: data.run), "feedback")
                largest = max(largest, html.utf8.count)
                try write(html, to: feedbackDir + "/\(stem).html")
                try write(FeedbackPage.csv(e, items: items), to: feedbackDir + "/\(stem).csv", bom: true)
                done += 1
                onPage?(done, data.enterpriseCount)
            }
            page.append(e)
            if page.count == pageSize { try writePage() }
        }
        if !page.isEmpty || written == 0 { try writePage() }
        let report = try templates.render(try reportContext(data, firstPage: firstPage[...], pageCount: pageCount), "report")
        try write(report, to: dir + "/report.html")
        return Summary(reportPath: dir + "/report.html", reportBytes: report.utf8.count,
                       feedbackPages: done, indexPages: written, largestFeedbackBytes: largest)
    }

    func write(_ text: String, to path: String, bom: Bool = false) throws {
        var data = Data()
        if bom { data.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
        data.append(contentsOf: text.utf8)
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw YingtongError("E-REPORT-WRITE", "无法写入报告文件 \(path)：\(error.localizedDescription)")
        }
    }

    static let statusLabels: [(String, String)] = [
        ("clean", "无问题"), ("explained", "核实性问题已说明"), ("flagged", "核实性问题待核实"), ("rejected", "有强制性错误"),
    ]

    static let trio = ["rd_intensity", "rd_fte_per_10k", "ind_rd_active_share"]

    func reportContext(_ data: ReportData, firstPage: ArraySlice<ReportData.EnterpriseFindings>, pageCount: Int) throws -> [String: Any] {
        let r = data.run
        let inputs: [[String: Any]] = r.inputs.map { i in
            ["path": i.path, "role": i.role, "sha256": i.sha256, "sha256Short": String(i.sha256.prefix(12)),
             "size": Fmt.size(i.bytes), "encoding": i.encoding, "physical": Fmt.int(i.lines.physicalLines),
             "records": Fmt.int(i.lines.records), "quarantined": Fmt.int(i.lines.quarantinedRecords)]
        }
        let statuses: [[String: Any]] = Self.statusLabels.map { code, label in
            ["code": code, "label": label, "count": Fmt.int(data.recordsByStatus[code, default: 0])]
        }
        let totalRecords = data.recordsByStatus.values.reduce(0, +)
        let indicators: [[String: Any]] = data.indicators.map { row in
            [
                "code": row.code, "name": row.nameZh, "unit": row.unit,
                "value": Fmt.value(row.value, unit: row.unit), "prev": Fmt.value(row.prevValue, unit: row.unit),
                "change": row.change.map { Fmt.value($0, unit: row.changeUnit ?? row.unit) + (row.changeUnit.map { " \($0)" } ?? "") } ?? "—",
                "growth": row.growthRate.map { Fmt.value($0, unit: "%") + "%" } ?? "—",
                "target": row.target.map { Fmt.value($0, unit: row.unit) } ?? "—",
                "completion": row.completionRate.map { Fmt.value($0, unit: "%") + "%" } ?? "—",
                "note": row.note ?? "",
                "down": (row.change ?? 0) < 0,
            ]
        }
        let byCode = Dictionary(data.indicators.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        let charts: [[String: Any]] = Self.trio.compactMap { code in
            guard let row = byCode[code] else { return nil }
            return Charts.indicator(row, peers: data.peerIndicators.filter { $0.code == code })
        }
        let omissions: [[String: Any]] = data.omissions.prefix(omissionRows).map { o in
            ["uscc": o.uscc, "name": o.name ?? "", "rules": o.rules.joined(separator: " "),
             "estimate": Fmt.wan(o.estimatedMissing), "basis": o.basis ?? "", "method": o.method,
             "reported": o.reported ? "已报送" : "未报送", "evidence": o.evidenceZh,
             "href": "feedback/" + FeedbackFileName.stem(uscc: o.uscc, period: o.period) + ".html",
             "hasPage": feedbackPages && data.omissionsWithFindings.contains("\(o.uscc)|\(o.period)")]
        }
        let hitRows: [[String: Any]] = data.ruleHits.map { h in
            ["rule": h.rule, "title": titles[h.rule] ?? "", "severity": h.severity.labelZh, "cls": h.severity.rawValue,
             "violations": Fmt.int(h.violations), "enterprises": Fmt.int(h.enterprises)]
        }
        let violations = data.ruleHits.reduce(0) { $0 + $1.violations }
        var context: [String: Any] = [
            "title": "\(r.pipeline) \(r.period)年研发统计审核报告",
            "pipeline": r.pipeline, "region": r.regionCode, "period": r.period, "prevPeriod": r.period - 1,
            "startedAt": r.startedAt, "finishedAt": r.finishedAt ?? "", "version": r.yingtongVersion,
            "inputs": inputs, "inputCount": r.inputs.count,
            "rulePacks": r.rulePacks.map { ["path": $0.path, "sha256Short": String($0.sha256.prefix(12)), "rules": $0.rules] },
            "statuses": statuses, "totalRecords": Fmt.int(totalRecords),
            "quarantineCount": Fmt.int(data.quarantineCount),
            "hasRulePacks": !r.rulePacks.isEmpty, "hasQuarantineCodes": !data.quarantineByCode.isEmpty,
            "quarantineCodes": data.quarantineByCode.prefix(12).map { ["code": $0.code, "count": Fmt.int($0.count)] },
            "violationCount": Fmt.int(violations),
            "ruleChart": Charts.ruleHits(data.ruleHits, titles: titles),
            "ruleRows": hitRows, "hasHits": !hitRows.isEmpty,
            "indicators": indicators, "hasIndicators": !indicators.isEmpty,
            "trioCharts": charts, "hasPeers": !data.peerIndicators.isEmpty,
            "omissions": omissions, "hasOmissions": !omissions.isEmpty,
            "omissionCount": Fmt.int(data.omissionCount), "omissionTotal": Fmt.wan(data.omissionTotal),
            "omissionCut": data.omissionCount > omissionRows, "omissionRows": omissionRows,
        ]
        for (k, v) in try indexContext(data, page: firstPage, number: 1, of: pageCount, prefix: "feedback/") { context[k] = v }
        return context
    }

    /// One page of the enterprise list; `prefix` is the path from the page's folder to feedback/. The rows go
    /// through ``RowTemplate`` (`enterprise-row.mustache`): through Mustache they were most of the report's time.
    func indexContext(_ data: ReportData, page: ArraySlice<ReportData.EnterpriseFindings>, number: Int, of count: Int,
                      prefix: String) throws -> [String: Any] {
        let rows: [[String: RowTemplate.Value]] = page.map { e in
            let stem = prefix + FeedbackFileName.stem(uscc: e.uscc, period: e.period)
            return ["uscc": .text(e.uscc), "name": .text(e.name ?? "（名称不详）"), "errors": .text(String(e.errors)),
                    "warnings": .text(String(e.warnings)), "infos": .text(String(e.infos)),
                    "explained": .text(String(e.explained)), "href": .text(stem + ".html"), "csv": .text(stem + ".csv"),
                    "hasPages": .flag(feedbackPages)]
        }
        let links: [[String: Any]] = Self.pageWindow(current: number, count: max(count, 1)).map { n in
            guard let n else { return ["gap": true] }
            return ["n": String(n), "href": prefix + "index-\(n).html", "current": n == number, "gap": false]
        }
        return [
            "listTitle": "\(data.run.pipeline) \(data.run.period)年 有审核问题的企业（第\(number)/\(max(count, 1))页）",
            "period": data.run.period, "enterpriseRowsHTML": try templates.renderRows(rows, "enterprise-row"),
            "hasEnterprises": !rows.isEmpty,
            "enterpriseCount": Fmt.int(data.enterpriseCount), "pageLinks": links, "paged": count > 1,
            "pageNumber": number, "pageCount": max(count, 1), "pageSize": pageSize,
            "shownRows": Fmt.int(rows.count), "cut": rows.count < data.enterpriseCount,
        ]
    }

    /// The page numbers a list page links to: the first, the last and three either side of the current one, with
    /// nil for each gap. Linking every page from every page made the list quadratic (2,000 pages at a million).
    public static func pageWindow(current: Int, count: Int) -> [Int?] {
        let wanted = Set([1, count] + Array(max(1, current - 3)...min(count, current + 3))).sorted()
        var out: [Int?] = []
        for n in wanted {
            if let last = out.last ?? nil, n > last + 1 { out.append(nil) }
            out.append(n)
        }
        return out
    }
}
