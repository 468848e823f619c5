import Foundation
import Testing
import YingtongIngest
import YingtongModel
@testable import YingtongXML

/// fixtures/xml/registry-tech-contract.xml: the technology contracts of the demo county as the science bureau's
/// XML export (GB18030), fields as attributes, `<Value field=…>` children and elements named by field.
@Suite struct RegistryXMLTests {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/xml/registry-tech-contract.xml").path

    @Test func rowsBindByCodeOrChineseNameWithUnitsAndLocations() throws {
        var reader = RegistryXMLReader(source: SourceFile(index: 0, path: path, role: "registry.tech_contract", form: .techContract))
        var sink = CollectingSink()
        let account = try reader.read(batchSize: 10, into: &sink)
        let rows = sink.rows(of: .techContract)
        #expect(rows.count == 2)
        #expect(rows[0]["seller_uscc"] == "91330727MA2847UY83" && rows[0]["buyer_name"] == "浙江锦江电器有限公司")
        #expect(rows[0]["contract_type"] == "技术开发" && rows[1]["contract_type"] == "技术开发")
        #expect(rows[0]["period"] == "2023")   // from the root's period attribute
        #expect(sink.units(of: .techContract)[0]["contract_amount"] == "万元")
        #expect(sink.provenance(of: .techContract).map(\.line) == [4, 12])
        // The row with 合同成交额 twice is quarantined whole, located.
        #expect(sink.quarantined.map(\.code) == ["E-XML-DUPLICATE"])
        #expect(sink.quarantined.first?.line == 18 && sink.quarantined.first?.messageZh.contains("合同成交额") == true)
        #expect(account.balanced && account.physicalLines == 22 && account.encoding == "gb18030")
    }

    @Test func aDocumentThatBreaksOffKeepsTheRowsBeforeTheBreak() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Registry xmlns="urn:yingtong:registry:1" period="2023">
              <Row uscc="91330727MA2NH61Y5P" 年度="2023"><Value field="研发费用加计扣除基数">17500000</Value></Row>
              <Row uscc="91330727MA2JJWFQ7K"><Value field="研发费用加计扣除基数">198</Value>
            """
        let file = try temporaryFile("broken.xml", Data(text.utf8))
        var reader = RegistryXMLReader(source: SourceFile(index: 0, path: file, role: "registry.tax_deduction", form: .taxDeduction))
        var sink = CollectingSink()
        let account = try reader.read(batchSize: 10, into: &sink)
        #expect(sink.rows(of: .taxDeduction).map { $0["uscc"] } == ["91330727MA2NH61Y5P"])
        #expect(sink.quarantined.count == 1 && sink.quarantined.first?.line == 4)
        #expect(account.balanced)
    }
}
