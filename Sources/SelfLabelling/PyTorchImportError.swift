/// Why a PyTorch file could not be turned into a SelfLabel network (the file itself was readable).
public enum PyTorchImportError: Error, CustomStringConvertible, Equatable {
    /// No state dict where the official files keep one.
    case noStateDict(path: String, found: String)
    /// The key names fit none of the known layouts, or the shapes fit no known architecture.
    case unknownArchitecture(path: String, reason: String)
    /// The file's tensors do not match the network's (missing, unexpected or differently shaped keys).
    case mismatch(path: String, architecture: String, missing: [String], unexpected: [String], shapes: [String])
    /// The network cannot be exported in the requested layout.
    case cannotExport(reason: String)

    public var description: String {
        switch self {
        case let .noStateDict(p, found): return "\(p): no state dict found (top level: \(found))"
        case let .unknownArchitecture(p, r): return "\(p): \(r); name the architecture with selflabel convert \(p) --arch A --out F.safetensors"
        case let .mismatch(p, a, missing, unexpected, shapes):
            func list(_ l: [String]) -> String { l.prefix(4).joined(separator: ", ") + (l.count > 4 ? ", … (\(l.count))" : "") }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) missing (\(list(missing)))") }
            if !unexpected.isEmpty { parts.append("\(unexpected.count) unexpected (\(list(unexpected)))") }
            if !shapes.isEmpty { parts.append("\(shapes.count) of another shape (\(list(shapes)))") }
            return "\(p) does not fit \(a): " + parts.joined(separator: "; ") + "; nothing was loaded"
        case let .cannotExport(r): return "cannot export: \(r)"
        }
    }
}
