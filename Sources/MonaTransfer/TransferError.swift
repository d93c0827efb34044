import Foundation

/// Why a transfer run could not proceed. Every case carries a one-line message that names the option, file or
/// step involved and, where possible, what to do about it.
public enum TransferError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An unknown or unusable task name or data path.
    case badTask(String)
    /// An unknown body, or a body whose assets are missing.
    case badBody(String)
    /// An impossible or inconsistent configuration.
    case badConfig(String)
    /// A missing or damaged checkpoint.
    case badCheckpoint(String)
    /// The loss or the gradients became NaN or infinite.
    case nonFinite(String)

    public var description: String {
        switch self {
        case .badTask(let m), .badBody(let m), .badConfig(let m), .badCheckpoint(let m), .nonFinite(let m): return m
        }
    }
}

extension TransferError: LocalizedError {
    public var errorDescription: String? { description }
}
