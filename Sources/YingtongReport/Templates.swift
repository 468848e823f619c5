import Foundation
import Mustache
import YingtongModel

/// The report templates shipped as resources (`Templates/*.mustache`), parsed once.
///
/// Markup lives in the templates; Swift code only computes the values they show (GUIDE: reports are reviewed
/// like code, and a designer can change a page without touching Swift).
public struct ReportTemplates: Sendable {
    public let library: MustacheLibrary

    public static func bundled() throws -> ReportTemplates {
        guard let dir = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw YingtongError("E-REPORT-TEMPLATE", "找不到报告模板目录 Templates（安装不完整）")
        }
        return try ReportTemplates(directory: dir)
    }

    public init(directory: URL) throws {
        var library = MustacheLibrary()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for file in names.sorted() where file.hasSuffix(".mustache") {
            let path = directory.appendingPathComponent(file).path
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw YingtongError("E-REPORT-TEMPLATE", "无法读取报告模板 \(path)：\(error.localizedDescription)")
            }
            do { try library.register(text, named: String(file.dropLast(".mustache".count))) } catch {
                throw YingtongError("E-REPORT-TEMPLATE", "报告模板 \(path) 语法错误：\(error)")
            }
        }
        self.library = library
    }

    func render(_ context: [String: Any], _ name: String) throws -> String {
        guard let out = library.render(context, withTemplate: name) else {
            throw YingtongError("E-REPORT-TEMPLATE", "缺少报告模板 \(name).mustache")
        }
        return out
    }
}
