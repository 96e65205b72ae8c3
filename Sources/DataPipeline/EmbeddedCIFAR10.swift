import Foundation

/// The default data set shipped inside the package: a class-balanced subset of real CIFAR-10 images
/// (Krizhevsky 2009), 5,000 training images (500 per class) and 1,000 held-out test images (100 per class),
/// 32x32, stored as the original JPEG files of `shared/data/cifar10-jpg.tar.gz` in two pack files
/// (`PackedImageDataset`), built by `scripts/data/make_embedded_cifar10.py`.
///
/// The training split is the first 500 files (`0000.jpg` … `0499.jpg`) of each class folder of `train/`, the test
/// split the first 100 of each class folder of `test/`; classes in torchvision order (airplane … truck), images
/// sorted by class then file name, exactly as `ImageFolderDataset` would list them.
public enum EmbeddedCIFAR10 {
    /// The class names, in target order.
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]

    /// The 5,000-image training split.
    public static var train: PackedImageDataset { get throws { try load("cifar10-train-subset") } }

    /// The 1,000-image test split.
    public static var test: PackedImageDataset { get throws { try load("cifar10-test-subset") } }

    static func load(_ name: String) throws -> PackedImageDataset {
        guard let path = Bundle.module.path(forResource: name, ofType: "slpack") else {
            throw DataPipelineError.missingResource(name: name + ".slpack")
        }
        return try PackedImageDataset(path: path)
    }
}
