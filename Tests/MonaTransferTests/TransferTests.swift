import Testing
@testable import MonaTransfer

@Test func transferNamespaceExists() { #expect(String(describing: Transfer.self) == "Transfer") }
