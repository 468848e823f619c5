import Foundation
import Testing
import YingtongFuzzEntries

/// Every input the fuzzers ever crashed or broke an invariant with (`Tests/Corpus/<target>/`), replayed through
/// the same entry point the fuzz target calls: a fixed crash that comes back fails here, on every `swift test`.
@Suite struct CorpusReplayTests {
    static let corpus = repositoryRoot.appendingPathComponent("Tests/Corpus")

    @Test(arguments: ["csv", "xml", "sdmx", "rules"])
    func replay(target: String) throws {
        let inputs = try files(in: Self.corpus.appendingPathComponent(target))
        #expect(!inputs.isEmpty, "Tests/Corpus/\(target)/ 应至少有一个输入")
        let run = try #require(FuzzEntries.targets[target])
        for input in inputs {
            let data = try [UInt8](Data(contentsOf: input.url))
            let problems = run(data, nil)
            #expect(problems.isEmpty, "\(target)/\(input.name): \(problems.joined(separator: "; "))")
        }
    }
}
