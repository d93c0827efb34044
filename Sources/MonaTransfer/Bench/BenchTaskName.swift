import Foundation

extension BenchTask {
    /// How tables and plots name a task: a catalog name as it is, a data path by its dataset — `Wafer` for
    /// `data/Wafer_TRAIN.ts` or the folder `data/ucr/Wafer/`, `heat` for `runs/heat.npz`, `darcy` for
    /// `pde/darcy_train.pt` — the same names `mona fit` derives from such paths, with their case kept.
    public static func displayName(_ name: String) -> String {
        let isPath = name.contains("/") || name.contains("\\")
        let url = URL(fileURLWithPath: name)
        let ext = url.pathExtension.lowercased()
        let dataExtensions = ["ts", "arff", "txt", "tsv", "npz", "pt", "pth"]
        guard isPath || dataExtensions.contains(ext) else { return name }
        let stem = url.deletingPathExtension().lastPathComponent
        var label: String
        switch ext {
        case "ts", "arff", "txt", "tsv":
            label = stem
            for suffix in ["_TRAIN", "_TEST"] where stem.uppercased().hasSuffix(suffix) {
                label = String(stem.dropLast(suffix.count))
            }
        case "npz":
            label = stem
        case "pt", "pth":
            label = stem.replacingOccurrences(of: "train", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "_-"))
        default:
            label = url.lastPathComponent     // a folder of UCR/UEA files
        }
        return label.isEmpty ? name : label
    }

    /// Display names for `names`; names that would share one keep their full form, so labels stay unique.
    public static func displayNames(_ names: [String]) -> [String: String] {
        var byLabel: [String: Int] = [:]
        for n in Set(names) { byLabel[displayName(n), default: 0] += 1 }
        return Dictionary(names.map { n in
            let label = displayName(n)
            return (n, byLabel[label]! > 1 ? n : label)
        }, uniquingKeysWith: { a, _ in a })
    }
}
