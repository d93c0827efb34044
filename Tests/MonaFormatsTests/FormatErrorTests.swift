import Testing
@testable import MonaFormats

@Test func formatErrorNamesTheFile() {
    #expect(FormatError(file: "a.npy", "truncated header").description == "a.npy: truncated header")
}
