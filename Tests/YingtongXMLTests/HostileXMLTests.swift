import Foundation
import Testing
import YingtongIngest
import YingtongModel
@testable import YingtongXML

/// Documents that attack the parser (probe §1). Each is refused with a located Chinese error, reads nothing it
/// points at, and leaves memory flat.
@Suite("hostile XML")
struct HostileXMLTests {
    @Test(arguments: [
        // libxml2 finds the entity loop where the laughs are referenced, before it hands out the DOCTYPE.
        ("billion_laughs", "E-XML-ENTITY", 15),
        ("xxe_local_file", "E-XML-ENTITY", 2),
        ("external_dtd", "E-XML-DTD", 2),
        ("external_dtd_http", "E-XML-DTD", 2),
    ])
    func doctypeDocumentsAreRefusedWhole(name: String, code: String, line: Int) throws {
        let before = peakRSSKilobytes()
        let (sink, account) = try readYingtong(try hostileFixture(name))
        #expect(sink.batches.isEmpty, "nothing of a refused document becomes a record")
        #expect(sink.explanations.isEmpty)
        let q = try #require(sink.quarantined.first)
        #expect(sink.quarantined.count == 1)
        #expect(q.code == code)
        #expect(q.line == 1 && q.lineEnd == Int32(account.physicalLines), "the whole document is quarantined")
        #expect(q.messageZh.contains("第 \(line) 行"), "located: \(q.messageZh)")
        #expect(q.messageZh.contains("拒绝"))
        #expect(!q.raw.contains("root:"), "the local file was not read")
        #expect(account.balanced)
        // Expanding the laughs would take gigabytes; refusing takes nothing measurable.
        #expect(peakRSSKilobytes() - before < 64 * 1024)
    }

    @Test func entityReferenceInContentEndsTheDocumentThere() throws {
        let (sink, account) = try readYingtong(try hostileFixture("undeclared_entity"))
        #expect(sink.rows(of: .activity).map { $0["name"] } == ["某某精密机械有限公司"])
        let q = try #require(sink.quarantined.first)
        #expect(q.code == "E-XML-ENTITY")
        #expect(q.line == 6, "the block starts at the enterprise that used the entity")
        #expect(q.messageZh.contains("第 7 行"))
        #expect(account.records == 1 && account.balanced)
    }

    @Test func sdmxWithExternalEntityIsRefused() throws {
        var sink = CollectingSink()
        var reader = SDMXReader(source: SourceFile(index: 0, path: try hostileFixture("sdmx_xxe"), role: "macro"))
        let account = try reader.read(batchSize: 10, into: &sink)
        #expect(sink.batches.isEmpty)
        #expect(sink.quarantined.map(\.code) == ["E-XML-ENTITY"])
        #expect(account.balanced)
    }

    @Test func theObservationIteratorThrowsTheFault() throws {
        let reader = try SDMXObservationReader(path: try hostileFixture("sdmx_xxe"))
        #expect(throws: XMLFault.self) { _ = try reader.next() }
    }

    @Test func overlongTextIsRefused() throws {
        let note = String(repeating: "长", count: 2000)
        let xml = """
        <RDReport xmlns="urn:yingtong:rd:1" period="2023">
          <Enterprise uscc="91330122MA2H3K6J0M"><Note rule="R1">\(note)</Note></Enterprise>
        </RDReport>
        """
        let (sink, _) = try readYingtong(try temporaryFile("long.xml", xml), limits: XMLLimits(maxTextBytes: 1000))
        #expect(sink.quarantined.map(\.code) == ["E-XML-LIMIT"])
        #expect(sink.explanations.isEmpty)
    }

    @Test func safeOptionsNeverIncludeExpansionOrLoading() {
        let unsafe: UInt32 = XML_PARSE_NOENT_RAW | XML_PARSE_DTDLOAD_RAW | XML_PARSE_DTDATTR_RAW | XML_PARSE_DTDVALID_RAW
            | XML_PARSE_XINCLUDE_RAW | XML_PARSE_HUGE_RAW
        #expect(UInt32(XMLStream.safeOptions) & unsafe == 0)
        #expect(UInt32(XMLStream.safeOptions) & XML_PARSE_NONET_RAW != 0)
    }
}

// libxml2's option values (parser.h), spelled out so this test does not import the C module.
private let XML_PARSE_NOENT_RAW: UInt32 = 1 << 1
private let XML_PARSE_DTDLOAD_RAW: UInt32 = 1 << 2
private let XML_PARSE_DTDATTR_RAW: UInt32 = 1 << 3
private let XML_PARSE_DTDVALID_RAW: UInt32 = 1 << 4
private let XML_PARSE_NONET_RAW: UInt32 = 1 << 11
private let XML_PARSE_XINCLUDE_RAW: UInt32 = 1 << 10
private let XML_PARSE_HUGE_RAW: UInt32 = 1 << 19
