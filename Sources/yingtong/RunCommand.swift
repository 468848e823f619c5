import ArgumentParser
import Foundation
import YingtongModel
import YingtongPipeline
import YingtongGenerate
import YingtongXML

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "按流水线文件运行一个统计周期：读取、标准化、审核、入库、计算指标、导出")

    @Argument(help: "流水线文件（pipelines/*.yaml）")
    var pipeline: String

    @Option(help: "报告年度，覆盖流水线文件中的 period")
    var period: Int?

    @Flag(help: "只输出最后的结果位置（不显示进度和日志）")
    var quiet = false

    @Option(help: "日志格式：text（给人看）或 json（每行一个 JSON 对象，给程序读）")
    var logFormat: RunLog.Format = .text

    func run() throws {
        let result: RunResult
        let json = logFormat == .json
        // A bar only for a person at a terminal: never on a pipe, with --quiet or with JSON logs.
        let progress = quiet || json ? nil : RunProgress.terminal()
        let logger = RunLog.logger(format: logFormat) { line in
            progress?.clear()
            FileHandle.standardError.write(Data((line + "\n").utf8))
            progress?.redraw()
        }
        do {
            let definition = try PipelineDefinition.load(path: pipeline, periodOverride: period)
            var runner = PipelineRunner(definition: definition, log: { line in
                if !quiet { logger.info("\(line)") }
            })
            runner.progress = progress
            runner.afterCommit = try WarehouseStep.make(definition, quiet: quiet)
            result = try runner.run()
        } catch {
            progress?.end()
            if json {
                let e = error as? YingtongError
                print(RunLog.jsonLine(ts: Date(), level: "error", event: "failed", message: e?.messageZh ?? "\(error)",
                                      fields: [("code", e?.code ?? "E-RUN")]))
                Foundation.exit(2)
            }
            fail(error)
        }
        progress?.end()
        if json {
            // The last line, for machines: where everything is.
            print(RunLog.jsonLine(ts: Date(), level: "info", event: "finished", message: "运行完成",
                                  fields: [("store", result.storePath), ("outputs", result.outputsDir),
                                           ("report", result.reportPath ?? ""), ("indicators", result.indicatorsCSV),
                                           ("error_findings", String(result.errorFindings))]))
        } else {
            print(result.summaryZh)
        }
        if result.errorFindings > 0 { throw ExitCode(1) }
    }
}

extension RunLog.Format: ExpressibleByArgument {}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "生成确定性的模拟统计周期（与 fixtures 相同的文件形态）及运行它的 pipeline.yaml，用于演示和基准测试")

    @Option(help: "企业数")
    var enterprises: Int = 1000

    @Option(help: "随机种子（相同种子生成相同字节）")
    var seed: UInt64 = 1

    @Option(help: "报告年度")
    var period: Int = 2023

    @Option(help: "输出目录")
    var out: String

    @Option(help: "格式：csv（与 fixtures 相同的一套 CSV 和 pipeline.yaml）或 xml（统计局导出的 GB18030 XML）")
    var format: String = "csv"

    @Flag(help: "同时生成应统尽统名单（加计扣除、技术合同各约占企业数30%，高企约10%）")
    var registries = false

    func run() throws {
        let start = Date()
        if format == "xml" {
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let url = URL(fileURLWithPath: out).appendingPathComponent("bureau_rd.xml")
                let bytes = try BureauXMLWriter.write(enterprises: enterprises, seed: seed, to: url)
                print(String(format: "已生成统计局导出 XML：%@（%d 家企业，%.1f MB，用时 %.2f 秒）", url.path, enterprises,
                             Double(bytes) / 1e6, Date().timeIntervalSince(start)))
            } catch {
                fail(error)
            }
            return
        }
        guard format == "csv" else { fail(YingtongError("E-CLI-FORMAT", "--format 应为 csv 或 xml")) }
        let summary: SyntheticCycle.Summary
        do {
            var cycle = SyntheticCycle(enterprises: enterprises, seed: seed, period: period, format: .csv)
            cycle.registries = registries
            summary = try cycle.write(to: URL(fileURLWithPath: out, isDirectory: true))
        } catch {
            fail(error)
        }
        let seconds = Date().timeIntervalSince(start)
        let total = summary.fileBytes.values.reduce(0, +)
        print("已生成 \(summary.enterprises) 家企业：107-2 \(summary.activityRows) 行，107-1 \(summary.projectRows) 行，名录 \(summary.rosterRows) 行；"
            + "植入错误：校验位 \(summary.badCheckDigits)、科学计数法 \(summary.excelCodes)、负数 \(summary.negativeCounts)、非数值 \(summary.nonNumericValues)")
        print(String(format: "共 %.1f MB，用时 %.2f 秒", Double(total) / 1e6, seconds))
        print("运行：yingtong run \(summary.pipelineFile.path)")
    }
}
