import Foundation
import Mustache
import YingtongModel

/// The report templates shipped as resources (`Templates/*.mustache`), parsed once.
///
/// Markup lives in the templates; Swift code only computes the values they show (GUIDE: reports are reviewed
/// like code, and a designer can change a page without touching Swift).
public struct ReportTemplates: Sendable {
    public let library: MustacheLibrary
    /// The `*-row.mustache` templates, for rows repeated by the hundred thousand (``RowTemplate``).
    public let rows: [String: RowTemplate]

    public static func bundled() throws -> ReportTemplates {
        guard let dir = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw YingtongError("E-REPORT-TEMPLATE", "找不到报告模板目录 Templates（安装不完整）")
        }
        return try ReportTemplates(directory: dir)
    }

    public init(directory: URL) throws {
        var library = MustacheLibrary()
        var rows: [String: RowTemplate] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for file in names.sorted() where file.hasSuffix(".mustache") {
            let path = directory.appendingPathComponent(file).path
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw YingtongError("E-REPORT-TEMPLATE", "无法读取报告模板 \(path)：\(error.localizedDescription)")
            }
            let name = String(file.dropLast(".mustache".count))
            if name.hasSuffix("-row") {
                rows[name] = try RowTemplate(text, name: path)
                continue
            }
            do { try library.register(text, named: name) } catch {
                throw YingtongError("E-REPORT-TEMPLATE", "报告模板 \(path) 语法错误：\(error)")
            }
        }
        self.library = library
        self.rows = rows
    }

    /// The rows of `values` through the row template `name`, one per line.
    func renderRows(_ values: [[String: RowTemplate.Value]], _ name: String) throws -> String {
        guard let template = rows[name] else {
            throw YingtongError("E-REPORT-TEMPLATE", "缺少报告行模板 \(name).mustache")
        }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 400)
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "\n")) }
            template.render(v, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    func render(_ context: [String: Any], _ name: String) throws -> String {
        guard let out = library.render(context, withTemplate: name) else {
            throw YingtongError("E-REPORT-TEMPLATE", "缺少报告模板 \(name).mustache")
        }
        return out
    }
}
