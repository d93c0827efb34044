import Foundation
import Testing
@testable import MonaData

/// A committed fixture file of this test target.
func fixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
}

/// A file fetched by `scripts/fetch-data.sh` into `.assets/data/`, or nil (with a visible SKIPPED line) when the
/// assets have not been fetched on this machine.
func asset(_ relativePath: String, for test: String) -> URL? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let url = root.appendingPathComponent(".assets/data/\(relativePath)")
    if FileManager.default.fileExists(atPath: url.path) { return url }
    print("SKIPPED: \(test) needs .assets/data/\(relativePath) — run scripts/fetch-data.sh")
    return nil
}

/// The `DataError` thrown by `body`, or nil when it throws nothing (or something else).
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let e as DataError {
        return e
    } catch {
        Issue.record("expected a DataError, got \(error)")
        return nil
    }
}

/// Checks that loading fails with a DataError naming `fileSuffix`, at `line` (when given), whose message
/// contains `message`.
func expectDataError(fileSuffix: String, line: Int? = nil, message: String,
                     sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    guard let e = dataError(body) else {
        Issue.record("expected a DataError (\(message)), nothing was thrown", sourceLocation: sourceLocation)
        return
    }
    #expect(e.file.hasSuffix(fileSuffix), "file \(e.file) should end with \(fileSuffix)", sourceLocation: sourceLocation)
    if let line { #expect(e.line == line, "line of: \(e)", sourceLocation: sourceLocation) }
    #expect(e.message.contains(message), "message of: \(e)", sourceLocation: sourceLocation)
    #expect(e.description.contains(fileSuffix), sourceLocation: sourceLocation)
}
