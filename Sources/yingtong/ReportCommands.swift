import ArgumentParser
import Foundation
import YingtongModel
import YingtongReport
import YingtongRules
import YingtongStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "从数据库重新生成某一报告期的审核报告（report.html）和企业反馈单（feedback/）",
        discussion: "缺省输出到数据库所在目录下的报告期子目录（与 yingtong run 的输出相同）。")

    @Option(help: "数据库文件（yingtong.sqlite）")
    var store: String

    @Option(help: "报告年度")
    var period: Int

    @Option(help: "行政区划代码（数据库中有多个地区时选择）")
    var region: String?

    @Option(help: "输出目录（缺省：数据库所在目录/报告期）")
    var out: String?

    @Option(name: .customLong("rules"), help: "规则包，用于显示规则名称（缺省：运行记录中的规则包，按 pipelines/ 查找）")
    var rulePacks: [String] = []

    func run() throws {
        do {
            let db = try Store(path: store, readOnly: true)
            defer { try? db.close() }
            let runID = try ReportData.findRun(store: db, period: period, region: region)
            let dir = out ?? ((store as NSString).deletingLastPathComponent as NSString).appendingPathComponent("\(period)")
            let titles = try ruleTitles(store: db, run: runID)
            // Written beside the final place and swapped in, so a failure leaves the previous report whole.
            let staging = dir + "/.report-tmp-\(ProcessInfo.processInfo.processIdentifier)"
            let fm = FileManager.default
            try? fm.removeItem(atPath: staging)
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            let report = CycleReport(templates: try ReportTemplates.bundled(), titles: titles)
            let summary = try db.read { conn in try report.write(conn, store: db, run: runID, to: staging) }
            for name in ["report.html", "feedback"] {
                let target = dir + "/" + name
                if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
                try fm.moveItem(atPath: staging + "/" + name, toPath: target)
            }
            try fm.removeItem(atPath: staging)
            print("已生成审核报告（\(Fmt.int(summary.reportBytes / 1024)) KB）和 \(summary.feedbackPages) 家企业的反馈单")
            print("报告：\(dir)/report.html")
        } catch {
            fail(error)
        }
    }

    func ruleTitles(store: Store, run: Int64) throws -> [String: String] {
        var paths = rulePacks
        if paths.isEmpty {
            let recorded = try ReportData.rulePacks(store: store, run: run).map(\.path)
            paths = recorded.map { "pipelines/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        }
        var titles: [String: String] = [:]
        for p in paths {
            titles.merge(try RulePack.load(path: p).titlesZh) { a, _ in a }
        }
        return titles
    }
}

struct BriefCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief",
        abstract: "按模板输出工作总结中“区域创新能力”一段，数字取自指标表，缺少的写明（缺数据：…）",
        discussion: "模板是 Mustache 文件（缺省 pipelines/brief.mustache），科技局可自行修改措辞。")

    @Option(help: "数据库文件（yingtong.sqlite）")
    var store: String

    @Option(help: "报告年度")
    var period: Int

    @Option(help: "行政区划代码（缺省：该报告期最近一次运行的地区）")
    var region: String?

    @Option(help: "简报模板")
    var template: String = "pipelines/brief.mustache"

    func run() throws {
        do {
            let db = try Store(path: store, readOnly: true)
            defer { try? db.close() }
            let runID = try ReportData.findRun(store: db, period: period, region: region)
            let indicators = try db.indicators(run: runID)
            let regionCode = region ?? indicators.first?.regionCode ?? ""
            guard let text = try? String(contentsOfFile: template, encoding: .utf8) else {
                throw YingtongError("E-BRIEF-TEMPLATE", "无法读取简报模板 \(template)")
            }
            print(try Brief(template: text).render(indicators, region: regionCode, period: period), terminator: "")
        } catch {
            fail(error)
        }
    }
}
