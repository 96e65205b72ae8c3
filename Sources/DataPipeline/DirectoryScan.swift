#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fast folder listing with `opendir`/`readdir`: entry types come from `d_type`, so a folder of a million files
/// is listed without one `stat` per file (`stat` only where the file system reports an unknown type).
public enum DirectoryScan {
    /// One folder entry.
    public struct Entry: Sendable, Equatable {
        /// File name without the folder.
        public var name: String
        /// True for a folder (or a link to one).
        public var isDirectory: Bool
    }

    /// The entries of `path` except `.` and `..`, unsorted. Throws `cannotOpen` naming the folder.
    public static func entries(_ path: String) throws -> [Entry] {
        guard let dir = opendir(path) else {
            throw DataPipelineError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { closedir(dir) }
        var out: [Entry] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: &ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var isDir: Bool
            switch Int32(ent.pointee.d_type) {
            case Int32(DT_DIR): isDir = true
            case Int32(DT_REG): isDir = false
            default:  // DT_UNKNOWN or a symbolic link: ask the file system (follows links, like os.walk)
                isDir = FileBytes.isDirectory(path + "/" + name)
            }
            out.append(Entry(name: name, isDirectory: isDir))
        }
        return out
    }

    /// Sorting by Unicode code points (the order of Python's `sorted` on `str`, which torchvision uses):
    /// comparing UTF-8 bytes gives exactly that order.
    public static func codePointLess(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// True when `name` ends in .jpg, .jpeg or .png, ignoring case (torchvision `IMG_EXTENSIONS` subset).
    public static func hasImageExtension(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        switch name[name.index(after: dot)...].lowercased() {
        case "jpg", "jpeg", "png": return true
        default: return false
        }
    }
}
