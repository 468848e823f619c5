import Foundation
import YingtongModel
import ZIPFoundation

/// An Office Open XML workbook written by yingtong: one sheet per exported table.
///
/// Hand-written SpreadsheetML rather than a library: no Swift XLSX writer is in the mirrored package list, and
/// what an export needs is small — typed cells, one number format for money, a bold frozen header. The zip
/// container is ZIPFoundation's. Each sheet streams to a temporary file row by row and is deflated into the
/// archive from there, so a million-row table never sits in memory.
///
/// Text is always an inline string (`t="inlineStr"`); a cell is never written with `<f>`, so text that looks
/// like a formula (`=HYPERLINK(…)`) stays text. Numbers are numeric cells: money in 千元 with the format
/// `#,##0.000` (exact to the 元), integers with `0`. A sheet holds at most 1,048,575 data rows (Excel's limit);
/// a longer table continues on `name (2)`, `name (3)`…
///
/// ```swift
/// let book = try XLSXWriter(path: "out/indicators.xlsx")
/// try book.beginSheet(name: "indicator", columns: table.columns)
/// try book.row(cells)
/// try book.finish()
/// ```
final class XLSXWriter {
    static let maxDataRows = 1_048_575

    private let path: String
    private let tempDir: URL
    private var sheets: [(name: String, file: URL)] = []
    private var current: OutputFile?
    private var currentColumns: [ExportColumn] = []
    private var currentBase = ""
    private var part = 1
    private var rowNumber = 0
    private var columnLetters: [String] = []
    let maxRows: Int

    init(path: String, maxRowsPerSheet: Int = XLSXWriter.maxDataRows) throws {
        self.path = path
        self.maxRows = maxRowsPerSheet
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("yingtong-xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: tempDir) }

    func beginSheet(name: String, columns: [ExportColumn]) throws {
        try endSheet()
        currentColumns = columns
        currentBase = Self.sheetName(name)
        part = 1
        columnLetters = (0..<columns.count).map(Self.columnName)
        try openPart()
    }

    private func openPart() throws {
        let name = part == 1 ? currentBase : String("\(currentBase.prefix(25)) (\(part))")
        let file = tempDir.appendingPathComponent("sheet\(sheets.count + 1).xml")
        sheets.append((name, file))
        let out = try OutputFile(path: file.path)
        current = out
        var widths = ""
        for (i, c) in currentColumns.enumerated() {
            let w = min(60, max(10, c.headerZh.count * 2 + 2))
            widths += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(w)\" customWidth=\"1\"/>"
        }
        try out.write("""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" \
            state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>\
            <sheetFormatPr defaultRowHeight="15"/>\(widths.isEmpty ? "" : "<cols>\(widths)</cols>")<sheetData>
            """)
        rowNumber = 1
        var header = "<row r=\"1\">"
        for (i, c) in currentColumns.enumerated() {
            header += "<c r=\"\(columnLetters[i])1\" t=\"inlineStr\" s=\"1\"><is><t>"
            Self.escape(c.headerZh, into: &header)
            header += "</t></is></c>"
        }
        header += "</row>"
        try out.write(header)
    }

    func row(_ cells: [Cell]) throws {
        guard let out = current else { return }
        if rowNumber > maxRows {
            try closePart()
            part += 1
            try openPart()
        }
        rowNumber += 1
        let r = String(rowNumber)
        var s = "<row r=\"\(r)\">"
        for (i, cell) in cells.enumerated() {
            let ref = columnLetters[i] + r
            switch cell {
            case .null:
                continue
            case .integer(let v):
                s += "<c r=\"\(ref)\" s=\"3\"><v>\(v)</v></c>"
            case .number(let v):
                let style = currentColumns[i].kind == .moneyThousandYuan ? "2" : "0"
                s += "<c r=\"\(ref)\" s=\"\(style)\"><v>\(v)</v></c>"
            case .text(let v):
                s += "<c r=\"\(ref)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">"
                Self.escape(String(v.prefix(32_767)), into: &s)
                s += "</t></is></c>"
            }
        }
        s += "</row>"
        try out.write(s)
    }

    private func closePart() throws {
        guard let out = current else { return }
        try out.write("</sheetData></worksheet>")
        try out.close()
        current = nil
    }

    func endSheet() throws { try closePart() }

    /// Writes the workbook parts and zips everything into `path` (replacing it).
    func finish() throws {
        try endSheet()
        if sheets.isEmpty { throw YingtongError("E-EXPORT-EMPTY", "没有要写入工作簿的表") }
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.removeItem(at: url)
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .create) } catch {
            throw YingtongError("E-EXPORT-WRITE", "无法创建 XLSX 文件 \(path)：\(error)")
        }
        var overrides = ""
        var sheetList = ""
        var rels = ""
        for (i, s) in sheets.enumerated() {
            overrides += "<Override PartName=\"/xl/worksheets/sheet\(i + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            var name = ""
            Self.escape(s.name, into: &name)
            sheetList += "<sheet name=\"\(name)\" sheetId=\"\(i + 1)\" r:id=\"rId\(i + 1)\"/>"
            rels += "<Relationship Id=\"rId\(i + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\(i + 1).xml\"/>"
        }
        let stylesID = sheets.count + 1
        let parts: [(String, String)] = [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                \(overrides)</Types>
                """),
            ("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <sheets>\(sheetList)</sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\(rels)\
                <Relationship Id="rId\(stylesID)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                </Relationships>
                """),
            ("xl/styles.xml", Self.styles),
        ]
        do {
            for (name, text) in parts {
                let data = Data(text.utf8)
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count),
                                     compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            for (i, s) in sheets.enumerated() {
                try archive.addEntry(with: "xl/worksheets/sheet\(i + 1).xml", fileURL: s.file, compressionMethod: .deflate)
                try? FileManager.default.removeItem(at: s.file)
            }
        } catch let e as YingtongError {
            throw e
        } catch {
            throw YingtongError("E-EXPORT-WRITE", "写入 XLSX 文件 \(path) 失败：\(error)")
        }
    }

    /// Style 0 general, 1 bold header, 2 money 千元 (three decimals: exact to the 元), 3 integer.
    static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.000"/></numFmts>\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    /// A1-style column letters: 0 → A, 25 → Z, 26 → AA.
    static func columnName(_ index: Int) -> String {
        var n = index + 1
        var s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }

    /// Excel's rules for sheet names: ≤ 31 characters, none of `: \ / ? * [ ]`.
    static func sheetName(_ s: String) -> String {
        let bad: Set<Character> = [":", "\\", "/", "?", "*", "[", "]"]
        let cleaned = String(s.map { bad.contains($0) ? "_" : $0 }.prefix(31))
        return cleaned.isEmpty ? "sheet" : cleaned
    }

    /// XML text escaping; characters XML 1.0 forbids (control bytes in quarantined raw text) become the
    /// `_xHHHH_` escapes SpreadsheetML defines, so they survive instead of breaking the file.
    static func escape(_ s: String, into out: inout String) {
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
                    let h = String(u.value, radix: 16, uppercase: true)
                    out += "_x" + String(repeating: "0", count: 4 - h.count) + h + "_"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
    }
}
