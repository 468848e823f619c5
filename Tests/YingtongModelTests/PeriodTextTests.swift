import Testing
@testable import YingtongModel

@Suite struct PeriodTextTests {
    /// Project and registry dates as submitters write them. ASCII text is read from its bytes and everything else
    /// by the general path; both must give the same month for the same date, and nil for what is not a month.
    @Test(arguments: [
        ("202203", 202203), ("2022-03", 202203), ("2022-3", 202203), ("2023-08-15", 202308), ("2023/8/15", 202308),
        ("2022.03", 202203), (" 2022-03 ", 202203), ("2022-003", 202203), ("2022年3月", 202203),
        ("２０２２年３月", 202203), ("２０２２０３", 202203), ("2022－03－01", 202203),
    ])
    func readsAMonth(raw: String, month: Int) {
        #expect(PeriodText.yearMonth(raw) == month, "\(raw)")
    }

    @Test(arguments: ["202213", "2022-00", "2022-13", "1949-05", "20220", "2022", "22-03", "202203 15", "2022-123",
                      "2022-99999999999999999999", "XX", "", "—", "2022年", "二〇二二年三月"])
    func rejectsWhatIsNotAMonth(raw: String) {
        #expect(PeriodText.yearMonth(raw) == nil, "\(raw)")
    }
}
