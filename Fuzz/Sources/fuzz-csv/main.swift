import Foundation
import YingtongFuzzEntries

// libFuzzer's callback. Exported under its C name as well, because the fuzzer runtime's own main may be linked
// in (it references this symbol); whichever main runs, every input arrives here.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzEntries.fuzzOne("csv", data, size)
}

// SwiftPM renames an executable's entry point, so this main hands argv to libFuzzer's driver itself
// (swift-tech-probe §6).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in FuzzEntries.fuzzOne("csv", data, size) })
