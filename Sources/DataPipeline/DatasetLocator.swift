/// Opens a data set folder by recognising its contents, so commands take one `--data DIR` whatever the
/// format. Looked for, in order:
/// 1. an image folder root: `DIR/train/` (training) and `DIR/val/` or `DIR/test/` (evaluation);
/// 2. CIFAR-10 binary: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin` (in DIR or in
///    `DIR/cifar-10-batches-bin/`);
/// 3. CIFAR-100 binary: `train.bin` and `test.bin` (in DIR or `DIR/cifar-100-binary/`), fine labels;
/// 4. MNIST / Fashion-MNIST IDX: `train-images-idx3-ubyte[.gz]` with labels, `t10k-…` for evaluation;
/// 5. a folder of class subfolders, or a flat folder of images (training only, no evaluation split).
public enum DatasetLocator {
    /// Which part of the data set.
    public enum Split: String, Sendable {
        case train, evaluation
    }

    /// What was recognised.
    public enum Format: String, Sendable {
        case imageFolder = "image folder", cifar10 = "CIFAR-10 binary", cifar100 = "CIFAR-100 binary"
        case idx = "MNIST IDX", plainFolder = "folder of images"
    }

    /// The recognised format of `directory`, or a `DataPipelineError.unrecognisedDataset` listing what was
    /// looked for.
    public static func format(of directory: String) throws -> (format: Format, root: String) {
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        guard FileBytes.isDirectory(root) else {
            throw DataPipelineError.cannotOpen(path: root, reason: "not a folder")
        }
        if FileBytes.isDirectory(root + "/train") { return (.imageFolder, root) }
        for dir in [root, root + "/cifar-10-batches-bin"] where FileBytes.isFile(dir + "/data_batch_1.bin") {
            return (.cifar10, dir)
        }
        for dir in [root, root + "/cifar-100-binary"] where FileBytes.isFile(dir + "/train.bin") {
            return (.cifar100, dir)
        }
        for name in ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"] where FileBytes.isFile(root + "/" + name) {
            return (.idx, root)
        }
        if (try? ImageFolderDataset(directory: root)) != nil { return (.plainFolder, root) }
        throw DataPipelineError.unrecognisedDataset(path: root, lookedFor: lookedFor)
    }

    /// Everything `format(of:)` checks, for the error message.
    public static let lookedFor = [
        "train/ (an image folder with train/ and val/ or test/)",
        "data_batch_1.bin (CIFAR-10 binary)", "train.bin (CIFAR-100 binary)",
        "train-images-idx3-ubyte[.gz] (MNIST IDX)", "class subfolders or .jpg/.jpeg/.png images",
    ]

    /// Opens `split` of the data set in `directory`.
    public static func open(_ directory: String, split: Split) throws -> any Dataset {
        let (format, root) = try format(of: directory)
        let train = split == .train
        switch format {
        case .imageFolder: return try ImageFolderDataset.split(root: root, train ? .train : .evaluation)
        case .cifar10: return try CIFARDataset(directory: root, variant: .cifar10, train: train)
        case .cifar100: return try CIFARDataset(directory: root, variant: .cifar100(coarse: false), train: train)
        case .idx: return try IDXDataset(mnistDirectory: root, train: train)
        case .plainFolder:
            guard train else { throw DataPipelineError.missingSplit(root: root, tried: ["val", "test"]) }
            return try ImageFolderDataset(directory: root)
        }
    }
}
