import ArgumentParser
import Foundation
import YingtongModel
import YingtongPipeline
import YingtongRules

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "报送前自查：按审核规则检查一个或多个报送文件（107-2、107-1），输出中文反馈",
        discussion: "退出码：0 无强制性错误；1 有强制性错误或无法读取的行；2 输入或规则文件无法读取。")

    @Argument(help: "报送文件（CSV 或 XML）")
    var files: [String]

    @Option(help: "流水线文件：使用其中的规则包、报告期和本县区划")
    var pipeline: String?

    @Option(help: "规则包（未指定流水线时使用）")
    var rules: String = "pipelines/rules/rd-catalogue.yaml"

    @Option(help: "报表：107-2 或 107-1（缺省时按表头识别）")
    var form: String?

    @Option(help: "报告年度")
    var period: Int?

    @Option(help: "输出格式：text 或 json")
    var format: String = "text"

    func run() throws {
        var parsedForm: Form?
        if let form {
            guard let f = Form(rawValue: form) else { fail(YingtongError("E-CLI-FORM", "--form 应为 107-2 或 107-1")) }
            parsedForm = f
        }
        guard format == "text" || format == "json" else { fail(YingtongError("E-CLI-FORMAT", "--format 应为 text 或 json")) }
        let outcome: SubmissionCheck.Outcome
        do {
            var packs = [rules]
            var year = period ?? Calendar(identifier: .gregorian).component(.year, from: Date()) - 1
            var county: Set<String> = []
            if let pipeline {
                let d = try PipelineDefinition.load(path: pipeline, periodOverride: period)
                packs = d.rulePacks.map(d.resolve)
                year = d.period
                county = Set([d.region] + d.regionAliases)
            }
            outcome = try SubmissionCheck(files: files, form: parsedForm, packPaths: packs, period: year,
                                          countyCodes: county).run()
        } catch {
            fail(error)
        }
        if format == "json" {
            for v in outcome.violations {
                var pairs: [(String, JSONValue)] = [
                    ("rule", .string(v.rule)), ("severity", .string(v.severity.rawValue)), ("level", .int(v.level)),
                    ("uscc", .string(v.uscc)), ("period", .int(v.period)),
                    ("fields", .array(v.fields.map { .string($0) })), ("observed", .string(v.observed)),
                    ("message", .string(v.messageZh)),
                ]
                if let p = v.projectName { pairs.append(("project", .string(p))) }
                if let e = v.expected { pairs.append(("expected", .string(e))) }
                if let i = v.imbalance { pairs.append(("imbalance", .string(i))) }
                pairs.append(("line", .int(Int(v.line))))
                print(JSONValue.object(pairs).text)
            }
            for q in outcome.quarantine {
                print(JSONValue.object([
                    ("rule", .string(q.code)), ("severity", .string("error")), ("level", .int(0)),
                    ("uscc", .null), ("period", .null), ("fields", .array(q.field.map { [.string($0)] } ?? [])),
                    ("observed", .string(q.raw)), ("message", .string(q.messageZh)), ("file", .string(q.file)),
                    ("line", .int(Int(q.line))),
                ]).text)
            }
        } else {
            let byEnterprise = Dictionary(grouping: outcome.violations, by: \.uscc)
            for uscc in byEnterprise.keys.sorted() {
                print(Feedback.render(byEnterprise[uscc]!, enterprise: outcome.names[uscc], titles: outcome.titles))
            }
            if byEnterprise.isEmpty && outcome.quarantine.isEmpty {
                print("经审核，未发现需要更正或说明的问题。")
            }
            if !outcome.quarantine.isEmpty {
                print("无法读取的内容（\(outcome.quarantine.count) 处，须更正后重新报送）")
                for (i, q) in outcome.quarantine.enumerated() {
                    print("\(i + 1). [\(q.code)] \(q.locationZh)：\(q.messageZh)")
                }
            }
        }
        if outcome.hasErrors { throw ExitCode(1) }
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "查看和检查审核规则包",
        subcommands: [List.self, Show.self, LintCommand.self])

    struct PackOption: ParsableArguments {
        @Option(help: "规则包文件")
        var pack: String = "pipelines/rules/rd-catalogue.yaml"

        func load() -> RulePack {
            do { return try RulePack.load(path: pack) } catch { fail(error) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "列出规则：编号、性质、层级、名称")
        @OptionGroup var options: PackOption

        func run() throws {
            let pack = options.load()
            print("规则包 \(pack.name) 版本 \(pack.version)（SHA-256 \(pack.sha256.prefix(12))…），共 \(pack.rules.count) 条")
            for r in pack.rules {
                print("\(r.id)\t\(r.severity.labelZh)\t层级\(r.level)\t\(r.nameZh ?? "")")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "显示一条规则的全部定义")
        @Argument(help: "规则编号，如 R102") var id: String
        @OptionGroup var options: PackOption

        func run() throws {
            let pack = options.load()
            guard let r = pack.rules.first(where: { $0.id == id }) else {
                fail(YingtongError("E-RULE-UNKNOWN", "规则包中没有 \(id)"))
            }
            print("\(r.id) \(r.nameZh ?? "")")
            print("性质：\(r.severity.labelZh)（\(r.severity.rawValue)）  层级：\(r.level)  缺失值：\(r.onMissing.rawValue)")
            if let w = r.when { print("条件 when：\(w.text)") }
            print("检查 check：\(r.check.text)")
            if !r.fields.isEmpty { print("涉及字段：\(r.fields.joined(separator: "、"))") }
            if r.appliesTo.contains(.unreported) {
                print("检查对象：" + (r.appliesTo.contains(.reported) ? "已报送单位，以及名录或名单中有而本期未报送的单位" : "名录或名单中有而本期未报送的单位"))
            }
            if r.worklist == "omission" { print("结果进入：应统尽统排查清单") }
            if let t = r.tolerance { print("容差：\(t)") }
            if let s = r.since { print("起始年度：\(s)") }
            if let u = r.until { print("截止年度：\(u)") }
            if let ref = r.ref { print("依据：\(ref)") }
            print("提示：\(r.messageZh)")
            print("定义位置：\(r.file):\(r.location.line)")
        }
    }

    struct LintCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lint", abstract: "检查规则包：未知字段、类型错误、重复编号、永不成立的条件、互相矛盾的平衡关系、无效占位符")
        @OptionGroup var options: PackOption

        func run() throws {
            let pack = options.load()
            let findings = Lint.run(pack)
            for f in findings { print(f.description) }
            print(findings.isEmpty ? "规则包 \(pack.name)：\(pack.rules.count) 条规则，未发现问题" : "共 \(findings.count) 项")
            if findings.contains(where: { $0.level == .error }) { throw ExitCode(1) }
        }
    }
}
