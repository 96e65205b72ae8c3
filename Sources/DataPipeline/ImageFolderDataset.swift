/// A folder of image files, like torchvision's `ImageFolder`: either one subfolder per class (classes are the
/// subfolder names sorted by code point, targets their positions) or a flat folder of images without classes.
///
/// Files with extensions jpg/jpeg/png (any case) are included, in sorted order within each class; the scan
/// recurses into subfolders of a class folder, like `os.walk(followlinks=True)`, but enters each folder (by
/// device and inode) once: a symbolic link back to a folder already scanned (a loop, or a second link to the
/// same folder) adds nothing, so no image is listed twice. `ImageFolderDataset.split(root:_:)` picks
/// `root/train`, or `root/val` then `root/test` for evaluation.
public struct ImageFolderDataset: Dataset {
    /// The folder that was scanned.
    public let root: String
    /// Full paths, in index order.
    public let paths: [String]
    /// Class index per file, or nil for a flat folder.
    public let fileTargets: [Int]?
    /// Sorted class folder names, or nil for a flat folder.
    public let classNames: [String]?

    /// Number of image files.
    public var count: Int { paths.count }
    /// Class index per file, or nil for a flat folder.
    public var targets: [Int]? { fileTargets }

    /// Which part of a dataset root to read.
    public enum Split: Sendable {
        /// `train/`.
        case train
        /// `val/`, or `test/` when there is no `val/`.
        case evaluation
    }

    /// Scans `directory`. When it contains subfolders with images, each is a class; images directly inside
    /// `directory` then are ignored (as torchvision does). Otherwise its images form a flat, unlabelled set.
    /// Throws `cannotOpen` for a missing folder, `noImages` when nothing qualifies.
    public init(directory: String) throws {
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.root = root
        let entries = try DirectoryScan.entries(root)
        let subfolders = entries.filter { $0.isDirectory }.map(\.name).sorted(by: DirectoryScan.codePointLess)
        var visited: Set<FileIdentity> = []
        if let id = FileBytes.identity(root) { visited.insert(id) }
        var paths: [String] = []
        var targets: [Int] = []
        var classes: [String] = []
        for name in subfolders {
            let files = try ImageFolderDataset.imageFiles(under: root + "/" + name, visited: &visited)
            // torchvision keeps every class folder, even an empty one (it then raises); we keep empty classes
            // out of the file list but in the class list so indices match torchvision's.
            classes.append(name)
            paths.append(contentsOf: files)
            targets.append(contentsOf: [Int](repeating: classes.count - 1, count: files.count))
        }
        if !paths.isEmpty {
            self.paths = paths
            self.fileTargets = targets
            self.classNames = classes
        } else {
            let flat = entries.filter { !$0.isDirectory && DirectoryScan.hasImageExtension($0.name) }
                .map(\.name).sorted(by: DirectoryScan.codePointLess)
            guard !flat.isEmpty else { throw DataPipelineError.noImages(path: root) }
            self.paths = flat.map { root + "/" + $0 }
            self.fileTargets = nil
            self.classNames = nil
        }
    }

    /// The dataset in `root/train` (`.train`) or in `root/val`, else `root/test` (`.evaluation`).
    public static func split(root: String, _ split: Split) throws -> ImageFolderDataset {
        let names = split == .train ? ["train"] : ["val", "test"]
        for name in names where FileBytes.isDirectory(root + "/" + name) {
            return try ImageFolderDataset(directory: root + "/" + name)
        }
        throw DataPipelineError.missingSplit(root: root, tried: names)
    }

    /// Image files under `folder`, recursively, sorted like `sorted(os.walk(...))` per folder; a folder whose
    /// identity is in `visited` is not entered again (and every folder entered is added to it).
    static func imageFiles(under folder: String, visited: inout Set<FileIdentity>) throws -> [String] {
        if let id = FileBytes.identity(folder), !visited.insert(id).inserted { return [] }
        var out: [String] = []
        let entries = try DirectoryScan.entries(folder).sorted { DirectoryScan.codePointLess($0.name, $1.name) }
        for e in entries where !e.isDirectory && DirectoryScan.hasImageExtension(e.name) {
            out.append(folder + "/" + e.name)
        }
        for e in entries where e.isDirectory {
            out.append(contentsOf: try imageFiles(under: folder + "/" + e.name, visited: &visited))
        }
        return out
    }

    public func describeSample(_ index: Int) -> String { paths[index] }

    public func sample(at index: Int, decoder: ImageDecoder) throws -> Sample {
        precondition(index >= 0 && index < paths.count, "ImageFolderDataset: index \(index) outside 0..<\(count)")
        let image = try decoder.decodeFile(paths[index])
        return Sample(image: image, target: fileTargets?[index], index: index)
    }
}
