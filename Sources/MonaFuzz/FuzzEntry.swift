import MonaFuzzHarnesses

// libFuzzer's entry point; built only by scripts/fuzz.sh (MONA_FUZZ=1 adds this target to the package).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    _ = try? Harnesses.selected(bytes)
    return 0
}
