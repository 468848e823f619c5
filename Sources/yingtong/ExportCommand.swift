import ArgumentParser
import Foundation
import YingtongModel
import YingtongPipeline
import YingtongExport
import YingtongStore
import YingtongWarehouse

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "从数据库导出表：CSV、XLSX、JSON Lines，或指标表的 SDMX-ML 2.1",
        discussion: """
        表：record、project、violation、quarantine、indicator、run、macro、roster…（数据库中的任何表；xlsx 可用逗号
        列出多个表，每表一个工作表）。CSV 默认供程序读取（UTF-8、无 BOM、表头为字段代码）；--excel 供 Excel 打开
        （BOM、CRLF、中文表头带单位、以 = + - @ 开头的文本单元格加 ' 防止被当作公式）。金额单位为千元。
        例：yingtong export --store out/demo-county/yingtong.sqlite --period 2023 --table indicator --format sdmx --out out/ind.xml
        """)

    @Option(help: "SQLite 数据库文件")
    var store: String

    @Option(help: "报告年度（缺省时导出所有年度）")
    var period: Int?

    @Option(help: "表名；xlsx 可用逗号分隔多个表")
    var table: String

    @Option(help: "格式：csv、xlsx、jsonl、sdmx")
    var format: String

    @Flag(help: "CSV 供 Excel 打开：BOM、CRLF、中文表头、公式字符转义")
    var excel = false

    @Option(help: "输出文件")
    var out: String

    func run() throws {
        guard let f = ExportFormat(rawValue: format) else {
            fail(YingtongError("E-CLI-FORMAT", "--format 应为 \(ExportFormat.allCases.map(\.rawValue).joined(separator: "、"))"))
        }
        do {
            let s = try Store(path: store, readOnly: true)
            defer { try? s.close() }
            let tables = table.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let summary = try Exporter.export(store: s, period: period, tables: tables, format: f, excel: excel, to: out)
            let counts = tables.map { "\($0) \(summary.rows[$0] ?? 0) 行" }.joined(separator: "，")
            print("已导出 \(out)：\(counts)")
        } catch {
            fail(error)
        }
    }
}

/// The warehouse load a pipeline's `outputs.postgres` asks for, run after the store commits.
enum WarehouseStep {
    static func make(_ d: PipelineDefinition, quiet: Bool) throws -> ((Store, Int64) throws -> Void)? {
        guard let target = d.postgres else { return nil }
        let location = try WarehouseLocation(url: try target.resolve())
        return { store, runID in
            let load: WarehouseLoad
            do {
                load = try PostgresWarehouse(location: location).loadBlocking(store: store, runID: runID)
            } catch let e as YingtongError {
                throw YingtongError(e.code, "\(e.messageZh)；本地数据库的运行已提交，修复后重新运行即可（重新载入是幂等的）")
            }
            if !quiet {
                FileHandle.standardError.write(Data("已载入数据仓库 \(location.redacted)：\(load.totalRows) 行，仓库运行编号 \(load.warehouseRunID)\n".utf8))
            }
        }
    }
}

struct WarehouseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warehouse",
        abstract: "把数据库中已提交的运行载入 PostgreSQL 数据仓库（与流水线 outputs.postgres 相同：每个运行一个事务，可重复执行）",
        discussion: "例：yingtong warehouse --store out/demo-county/yingtong.sqlite --period 2023 --env YINGTONG_PG_URL")

    @Option(help: "SQLite 数据库文件")
    var store: String

    @Option(help: "报告年度（缺省时载入所有运行）")
    var period: Int?

    @Option(help: "PostgreSQL 地址 postgres://用户:密码@主机:端口/数据库")
    var url: String?

    @Option(help: "保存 PostgreSQL 地址的环境变量名")
    var env: String?

    func run() throws {
        do {
            let target: WarehouseTarget
            if let url { target = .url(url) } else if let env { target = .environment(env) } else {
                throw YingtongError("E-CLI-WAREHOUSE", "请用 --url 或 --env 指定 PostgreSQL 地址")
            }
            let location = try WarehouseLocation(url: try target.resolve())
            let s = try Store(path: store, readOnly: true)
            defer { try? s.close() }
            let warehouse = PostgresWarehouse(location: location)
            for run in try s.runs().reversed() where period == nil || run.period == period {
                let start = Date()
                let load = try warehouse.loadBlocking(store: s, runID: run.id)
                let seconds = Date().timeIntervalSince(start)
                print(String(format: "已载入运行 %lld（%@，%@，%d 年）：%d 行，%.1f 秒，%.0f 行/秒", run.id, run.pipeline,
                             run.regionCode, run.period, load.totalRows, seconds, Double(load.totalRows) / max(seconds, 0.001)))
            }
        } catch {
            fail(error)
        }
    }
}
