import Foundation
import MonaTensor

/// What a file says about one stored tensor, before any conversion.
public struct TensorInfo: Sendable, Equatable {
    /// The name as stored (state-dict style for checkpoints, `name` of `name.npy` for `.npz`).
    public var name: String
    /// The stored element type, spelled as in safetensors (`F32`, `BF16`, `I64`, …) for every format.
    public var dtype: String
    public var shape: [Int]

    public init(name: String, dtype: String, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// The ordered listing of a tensor file, as shown by `mona inspect`.
public struct TensorArchive: Sendable {
    /// The file the listing came from.
    public var file: String
    public var format: TensorFileFormat
    /// Tensors in file order.
    public var tensors: [TensorInfo]
    /// Free-form string metadata (safetensors `__metadata__`); empty for other formats.
    public var metadata: [String: String]

    public init(file: String, format: TensorFileFormat, tensors: [TensorInfo], metadata: [String: String] = [:]) {
        self.file = file
        self.format = format
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Tensor names in file order.
    public var names: [String] { tensors.map(\.name) }
}

/// The tensor file formats MonaFormats reads.
public enum TensorFileFormat: String, Sendable, CaseIterable {
    case safetensors
    case npy
    case npz
    /// A `torch.save` zip checkpoint (`.pt`, `.pth`, `.bin`).
    case pytorch
}

/// Format-independent entry points: the format is recognised from the file's first bytes, not its name.
public enum TensorFile {
    /// Recognises the format from the file's magic bytes.
    public static func format(of url: URL) throws -> TensorFileFormat {
        let head = try FileIO.prefix(of: url, count: 16)
        if head.starts(with: NumPyArray.magic) { return .npy }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            // Both .npz and torch.save files are zips; torch's hold `<prefix>/data.pkl`.
            return try ZipMembers.open(url).hasTorchPickle ? .pytorch : .npz
        }
        if head.count >= 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        if head.first == 0x80 {
            throw FormatError(file: url.path, "this is a legacy (pre-1.6, non-zip) torch.save file, which is not "
                              + "supported; re-save it with a current PyTorch (zip format)")
        }
        throw FormatError(file: url.path, "unrecognised file: expected safetensors, .npy, .npz or a torch.save zip")
    }

    /// The ordered listing (names, dtypes, shapes) without converting tensor data.
    public static func inspect(contentsOf url: URL) throws -> TensorArchive {
        switch try format(of: url) {
        case .safetensors: try SafeTensors.inspect(contentsOf: url)
        case .npy: try NumPyArray.inspect(contentsOf: url)
        case .npz: try NumPyArchive.inspect(contentsOf: url)
        case .pytorch: try TorchCheckpoint.inspect(contentsOf: url)
        }
    }

    /// Every tensor of the file as Float32, keyed by name (a `.npy` file's single array is named by the file's
    /// base name).
    public static func load(contentsOf url: URL) throws -> [String: Tensor] {
        switch try format(of: url) {
        case .safetensors: try SafeTensors.load(contentsOf: url)
        case .npy: [url.deletingPathExtension().lastPathComponent: try NumPyArray.load(contentsOf: url)]
        case .npz: try NumPyArchive.load(contentsOf: url)
        case .pytorch: try TorchCheckpoint.load(contentsOf: url)
        }
    }
}
