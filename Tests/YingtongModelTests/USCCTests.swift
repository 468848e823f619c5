import Testing
@testable import YingtongModel

@Suite struct USCCTests {
    @Test(arguments: ["91330782MA2A7K5N23", "91330783147258364P", "52330782MJ9B2C3D5X"])
    func validCodesPass(_ code: String) {
        #expect(USCC.problem(code) == nil)
    }

    @Test func invalidCodesFailWithReason() {
        #expect(USCC.problem("91330782MA2A7K5N24") == .checkChar)
        #expect(USCC.problem("91330782MA2A7K5NZ3") == .charset)
        #expect(USCC.problem("91350203M0001QAY9B") == .checkChar)
        #expect(USCC.problem("9133078") == .length)
        #expect(USCC.problem("") == .length)
        #expect(USCC.problem("913307A2MA2A7K5N23") == .areaDigits)
        #expect(USCC.problem("91330782MA2A7K5N2Ｘ") == .length)
    }

    @Test func worldExampleCheckChar() {
        #expect(USCC.complete("91330782MA2A7K5N2") == "91330782MA2A7K5N23")
    }

    @Test func embeddedOrgCodes() {
        #expect(OrgCode.isValid("MA2A7K5N-2"))
        #expect(OrgCode.isValid("14725836-4"))
        #expect(OrgCode.isValid("MJ9B2C3D5"))
        #expect(!OrgCode.isValid("MA2A7K5N-3"))
    }

    @Test func normalizationRemovesSpacesAndFullWidth() {
        #expect(USCC.normalize(" ９１330782ma2a7k5n23 ") == "91330782MA2A7K5N23")
        #expect(USCC.normalize("91330782-MA2A7K5N2-3") == "91330782MA2A7K5N23")
    }
}

@Suite struct USCCMakeTests {
    @Test func makeProducesCodesValidInsideAndOut() {
        let code = USCC.make(category: "91", area: "330782", orgBody: "MA2A7K5N")
        #expect(code == "91330782MA2A7K5N23")
        #expect(OrgCode.isValid(USCC.embeddedOrgCode(code!)!))
    }
}
