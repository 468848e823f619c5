import Foundation
import Testing
import YingtongModel
@testable import YingtongIngest

@Suite struct EncodingTests {
    let text = "企业研究开发活动及相关情况（2023年）\r\n统一社会信用代码,单位详细名称,研究开发人员合计,研究开发费用合计（万元）\r\n91330782MA2A7K5N23,某某精密机械有限公司,35,123.4\r\n"

    @Test func gb18030IsDetectedWhenNotUTF8() throws {
        let (sink, account, _) = try read(gb18030(text))
        #expect(account.encoding == "gb18030")
        #expect(sink.cell(0, "name") == "某某精密机械有限公司")
        #expect(account.balanced)
    }

    @Test func utf8WithAndWithoutBOM() throws {
        let (a, accA, _) = try read(Array(text.utf8))
        #expect(accA.encoding == "utf-8")
        #expect(a.cell(0, "name") == "某某精密机械有限公司")
        let (b, accB, _) = try read([0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(accB.encoding == "utf-8-bom")
        #expect(b.cell(0, "uscc") == "91330782MA2A7K5N23")
        // The BOM must not stick to the first header cell (a bureau export starts with the header itself).
        let (c, _, reader) = try read([0xEF, 0xBB, 0xBF] + Array("统一社会信用代码,单位详细名称\n91330782MA2A7K5N23,甲\n".utf8), form: .roster)
        #expect(reader.layout?.bindings.first?.field.code == "uscc")
        #expect(reader.layout?.unknownColumns == [])
        #expect(c.cell(0, "uscc") == "91330782MA2A7K5N23")
    }

    @Test func fourByteGB18030CharactersSurvive() throws {
        let (sink, _, _) = try read(gb18030("统一社会信用代码,单位详细名称,研究开发人员合计\n91330782MA2A7K5N23,𠀀科技😀有限公司,3\n"))
        #expect(sink.cell(0, "name") == "𠀀科技😀有限公司")
    }

    @Test func invalidByteQuarantinesItsRecordWithLocation() throws {
        var bytes = gb18030("统一社会信用代码,单位详细名称,研究开发人员合计\n91330782MA2A7K5N23,甲公司,3\n")
        let lineStart = bytes.count
        bytes += gb18030("91330783147258364P,乙")
        let badOffset = bytes.count
        bytes += [0x81, 0x20]  // 0x81 needs a trail byte in 0x40–0xFE or 0x30–0x39
        bytes += gb18030("公司,4\n52330782MJ9B2C3D5X,丙公司,5\n")
        let (sink, account, _) = try read(bytes)
        #expect(sink.recordCount == 2)
        #expect(sink.quarantined.count == 1)
        let q = try #require(sink.quarantined.first)
        #expect(q.code == "E-ENCODING")
        #expect(q.line == 3)
        #expect(q.column == 21)
        #expect(q.byteOffset == Int64(badOffset))
        #expect(Int64(lineStart) < Int64(badOffset))
        #expect(!q.raw.contains("\u{FFFD}"))
        #expect(q.messageZh.contains("字节偏移 \(badOffset)"))
        #expect(account.balanced)
        #expect(account.quarantinedLines == 1 && account.recordLines == 2 && account.layoutLines == 1)
    }

    @Test func loneEuroByteMeansCP936() throws {
        let bytes = gb18030("统一社会信用代码,单位详细名称,研究开发人员合计\n91330782MA2A7K5N23,欧元") + [0x80] + gb18030("公司,3\n")
        let (sink, account, _) = try read(bytes)
        #expect(account.encoding == "cp936")
        #expect(sink.cell(0, "name") == "欧元€公司")
        #expect(sink.quarantined.isEmpty)
    }

    @Test func invalidUTF8InBOMFileIsLocated() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("uscc,name,rd_staff_total\n91330782MA2A7K5N23,a".utf8) + [0xC3, 0x28] + Array(",3\n".utf8)
        let (sink, account, _) = try read(bytes)
        #expect(sink.recordCount == 0)
        #expect(sink.quarantined.first?.code == "E-ENCODING")
        #expect(sink.quarantined.first?.line == 2)
        #expect(account.balanced)
    }
}

@Suite struct DialectTests {
    @Test func quotedFieldsWithCommasQuotesAndNewlines() throws {
        let csv = "统一社会信用代码,报告期,项目名称,项目人员实际工作时间（人月）\n" +
            "91330782MA2A7K5N23,2023,\"伺服阀芯, 第二期\",12\n" +
            "91330782MA2A7K5N23,2023,\"“高精度”\"\"阀\"\"研究\",6\n" +
            "91330782MA2A7K5N23,2023,\"跨行\n项目名称\",3"  // last line without newline
        let (sink, account, reader) = try read(Array(csv.utf8))
        #expect(reader.layout?.form == .projects)
        #expect(sink.recordCount == 3)
        #expect(sink.cell(0, "project_name") == "伺服阀芯, 第二期")
        #expect(sink.cell(1, "project_name") == "“高精度”\"阀\"研究")
        #expect(sink.cell(2, "project_name") == "跨行\n项目名称")
        #expect(account.physicalLines == 5)
        #expect(account.recordLines == 4)
        #expect(account.balanced)
        #expect(sink.batches[0].provenance[2].line == 4 && sink.batches[0].provenance[2].lineEnd == 5)
    }

    @Test func unclosedQuoteSpoilsOnlyItsLine() throws {
        let csv = "统一社会信用代码,报告期,项目名称,项目经费支出（千元）\n" +
            "91330782MA2A7K5N23,2023,\"未闭合的项目,100\n" +
            "91330782MA2A7K5N23,2023,正常项目,200\n" +
            "91330782MA2A7K5N23,2023,\"带引号\",300\n"
        let (sink, account, _) = try read(Array(csv.utf8))
        #expect(sink.quarantined.map(\.code) == ["E-CSV-QUOTE"])
        #expect(sink.quarantined.first?.line == 2)
        #expect(sink.recordCount == 2)
        #expect(sink.cell(0, "project_name") == "正常项目")
        #expect(sink.cell(1, "project_name") == "带引号")
        #expect(account.balanced)
    }

    @Test func unclosedQuoteAtEndOfFile() throws {
        let csv = "uscc,period,project_name,exp\n91330782MA2A7K5N23,2023,\"a,1\n91330782MA2A7K5N23,2023,b,2\n"
        let (sink, account, _) = try read(Array(csv.utf8))
        #expect(sink.quarantined.count == 1)
        #expect(sink.recordCount == 1)
        #expect(account.balanced)
    }

    @Test func titleUnitsCodeRowsAndFooterAreLayout() throws {
        let csv = "企业研究开发活动及相关情况\n\n统一社会信用代码,单位详细名称,研究开发人员合计,研究开发费用合计\n计量单位,,人,万元\n" +
            "91330782MA2A7K5N23,甲,3,12.5,,\n填报说明：本表由企业填报\n单位负责人：张三,,,\n"
        let (sink, account, reader) = try read(Array(csv.utf8))
        #expect(sink.recordCount == 1)
        #expect(account.layoutLines == 6)
        #expect(account.balanced)
        let layout = try #require(reader.layout)
        #expect(layout.bindings.first { $0.field.code == "rd_exp_total" }?.declaredUnit == "万元")
    }

    @Test func headersByCodeAndRowNumber() throws {
        let csv = "uscc,name,1,7\n代码,乙,1,7\n91330782MA2A7K5N23,甲,3,125\n"
        let (sink, _, reader) = try read(Array(csv.utf8), form: .activity)
        #expect(reader.layout?.bindings.map(\.field.code) == ["uscc", "name", "rd_staff_total", "rd_exp_total"])
        #expect(sink.cell(0, "rd_exp_total") == "125")
    }

    @Test func fullWidthBracketUnits() throws {
        let csv = "统一社会信用代码,研究开发费用合计（万元）,人员人工费用(千元),委托外部研究开发费用【亿元】\n91330782MA2A7K5N23,1,2,3\n"
        let (_, _, reader) = try read(Array(csv.utf8))
        let units = reader.layout?.bindings.map { $0.declaredUnit ?? "-" }
        #expect(units == ["-", "万元", "千元", "亿元"])
    }

    @Test func duplicateColumnsQuarantineTheFile() throws {
        let csv = "统一社会信用代码,研究开发费用合计,rd_exp_total\n91330782MA2A7K5N23,1,2\n91330782MA2A7K5N23,1,2\n"
        let (sink, account, _) = try read(Array(csv.utf8))
        #expect(sink.recordCount == 0)
        #expect(sink.quarantined.allSatisfy { $0.code == "E-CSV-HEADER-DUPLICATE" })
        #expect(sink.quarantined.count == 3)
        #expect(account.balanced)
    }

    @Test func headerlessFileIsQuarantinedWhole() throws {
        let csv = "a,b,c\n1,2,3\n"
        let (sink, account, _) = try read(Array(csv.utf8))
        #expect(sink.quarantined.count == 2)
        #expect(sink.quarantined.allSatisfy { $0.code == "E-CSV-HEADER" })
        #expect(account.balanced)
    }

    @Test func raggedRowWithExtraValuesIsQuarantined() throws {
        let csv = "统一社会信用代码,单位详细名称,研究开发人员合计\n91330782MA2A7K5N23,某公司,分公司,3\n91330782MA2A7K5N23,某公司,3,,\n"
        let (sink, account, _) = try read(Array(csv.utf8))
        #expect(sink.quarantined.map(\.code) == ["E-CSV-RAGGED"])
        #expect(sink.recordCount == 1)
        #expect(account.balanced)
    }

    @Test func semicolonAndTabSeparators() throws {
        let path = tempFile(Array("uscc;name;rd_staff_total\n91330782MA2A7K5N23;甲;3\n".utf8))
        var reader = CSVReader(source: SourceFile(index: 0, path: path, role: "enterprise_rd", separator: UInt8(ascii: ";")))
        var sink = CollectingSink()
        _ = try reader.read(batchSize: 10, into: &sink)
        #expect(sink.cell(0, "rd_staff_total") == "3")
    }

    @Test func batchesSplitAndLinesStillAddUp() throws {
        var csv = "uscc,name,rd_staff_total\n"
        for i in 0..<1000 { csv += "91330782MA2A7K5N23,企业\(i),\(i)\r\n" }
        let (sink, account, _) = try read(gb18030(csv), batchSize: 64)
        #expect(sink.batches.count == 16)
        #expect(sink.recordCount == 1000)
        #expect(sink.cell(999, "name") == "企业999")
        #expect(account.physicalLines == 1001 && account.balanced)
    }

    @Test func byteOffsetsPointIntoTheOriginalFile() throws {
        let head = gb18030("统一社会信用代码,单位详细名称\n")
        let row = gb18030("91330782MA2A7K5N23,某某公司\n")
        let (sink, _, _) = try read(head + row + row, form: .activity)
        #expect(sink.recordCount == 2, "\(sink.quarantined)")
        #expect(sink.batches[0].provenance[0].byteOffset == Int64(head.count))
        #expect(sink.batches[0].provenance[1].byteOffset == Int64(head.count + row.count))
    }

    @Test func missingFileIsARunError() {
        var reader = CSVReader(source: SourceFile(index: 0, path: "/nonexistent/x.csv", role: "enterprise_rd"))
        var sink = CollectingSink()
        #expect(throws: YingtongError.self) { try reader.read(batchSize: 10, into: &sink) }
    }
}
