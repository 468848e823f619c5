import ArgumentParser
import Foundation
import YingtongModel
import YingtongPipeline

/// The command-line tool: parses arguments and calls one function of YingtongPipeline (GUIDE.md: the CLI is thin).
@main
struct Yingtong: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yingtong",
        abstract: "应统：县域研发统计数据处理（采集、标准化、审核、入库、指标）",
        discussion: """
        退出码：0 成功；1 运行完成但有强制性（error）审核错误；2 无法运行（流水线文件错误、输入不可读）。
        """,
        subcommands: [RunCommand.self, ReadCommand.self, ValidateCommand.self, RulesCommand.self, GenerateCommand.self,
                      ExportCommand.self, WarehouseCommand.self, ReportCommand.self, BriefCommand.self])
}

/// Exit code 2 with a one-line Chinese reason, for failures that stop a command before it can finish.
func fail(_ error: Error) -> Never {
    let line: String
    if let e = error as? YingtongError { line = "yingtong：\(e.messageZh)（\(e.code)）" } else { line = "yingtong：\(error)" }
    FileHandle.standardError.write(Data((line + "\n").utf8))
    Foundation.exit(2)
}

struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "显示 yingtong 从一个输入文件中读到了什么（JSON Lines：记录、隔离项、汇总）")

    @Argument(help: "输入文件（CSV）")
    var file: String

    @Option(help: "数据来源角色：enterprise_rd、bureau_rd、roster、macro…（缺省时按表头识别）")
    var role: String?

    @Option(help: "报表：107-2 或 107-1（缺省时按表头识别）")
    var form: String?

    @Option(help: "编码：auto、utf-8、gb18030、cp936")
    var encoding: String = "auto"

    @Option(help: "报告年度（文件中没有报告期列时使用）")
    var period: Int?

    func run() throws {
        var parsedForm: Form?
        if let form {
            guard let f = Form(rawValue: form) else { fail(YingtongError("E-CLI-FORM", "--form 应为 107-2、107-1、roster 或 macro")) }
            parsedForm = f
        }
        let out = FileHandle.standardOutput
        var buffer = ""
        do {
            try Inspector(path: file, role: role, form: parsedForm, encoding: encoding, period: period).run { line in
                buffer += line
                buffer += "\n"
                if buffer.utf8.count > 1 << 16 { out.write(Data(buffer.utf8)); buffer = "" }
            }
        } catch {
            out.write(Data(buffer.utf8))
            fail(error)
        }
        out.write(Data(buffer.utf8))
    }
}
