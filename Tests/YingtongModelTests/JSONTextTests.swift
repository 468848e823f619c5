import Foundation
import Testing
import YingtongModel

@Suite("JSON text quoting")
struct JSONTextTests {
    /// Texts without anything to escape are appended whole; the others escaped; both parse back to the same text.
    @Test(arguments: ["rd_exp_total", "浙江某某科技有限公司", "", "12,345.6", "引号\"与\\反斜杠", "换行\n回车\r制表\t", "\u{1}控制\u{1F}", "😀 emoji"])
    func quotedTextParsesBack(_ text: String) throws {
        let quoted = JSONText.quoted(text)
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as? [String]
        #expect(parsed == [text])
    }

    @Test func escapesAreTheShortForms() {
        #expect(JSONText.quoted("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
        #expect(JSONText.quoted("研发") == "\"研发\"")
    }
}
