import ArgumentParser
import Foundation
import YingtongModel
import YingtongPipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "按流水线文件运行一个统计周期：读取、标准化、审核、入库、计算指标、导出")

    @Argument(help: "流水线文件（pipelines/*.yaml）")
    var pipeline: String

    @Option(help: "报告年度，覆盖流水线文件中的 period")
    var period: Int?

    @Flag(help: "只输出最后的结果位置")
    var quiet = false

    func run() throws {
        let result: RunResult
        do {
            let definition = try PipelineDefinition.load(path: pipeline, periodOverride: period)
            result = try PipelineRunner(definition: definition, log: { line in
                if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }).run()
        } catch {
            fail(error)
        }
        print(result.summaryZh)
        if result.errorFindings > 0 { throw ExitCode(1) }
    }
}

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

    func run() throws {
        fail(YingtongError("E-CLI-GENERATE", "generate 尚未接入"))
    }
}
