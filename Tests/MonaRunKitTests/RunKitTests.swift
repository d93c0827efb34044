import Testing
@testable import MonaRunKit

@Test func runKitNamespaceExists() { #expect(String(describing: RunKit.self) == "RunKit") }
