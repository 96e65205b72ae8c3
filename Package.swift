// swift-tools-version: 6.0
// SelfLabel: SeLa (Asano, Rupprecht, Vedaldi, ICLR 2020) natively in Swift.
// Targets follow docs/ARCHITECTURE.md; arrows point only downwards:
//   selflabel (CLI) → SelfLabelling → Evaluation → NeuralNetworks, DataPipeline, Interop;
//   NeuralNetworks → Autograd → Tensors; DataPipeline, Interop → Tensors; Tensors → C libraries.
import PackageDescription

let package = Package(
    name: "SelfLabel",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "selflabel", targets: ["selflabel"]),
        .library(name: "SelfLabelling", targets: ["SelfLabelling"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Interop", targets: ["Interop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),  // 1.8: @Option(defaultAsFlag:)
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // System libraries (Debian packages; scripts/bootstrap installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL",  // oneDNN ships no .pc file
                       providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),

        // Processes of an mpirun/srun job (Open MPI), or the single process without any MPI call.
        .target(name: "Distributed", dependencies: ["CMPI"]),
        // Storage, shapes, kernels, backends, seeded RNG.
        .target(name: "Tensors", dependencies: ["CBLAS", "CDNNL", "CTensorKernels"]),
        // Memory-bound kernels oneDNN runs slowly (2x2 max pooling), in C on libgomp's team (oneDNN's pool).
        .target(name: "CTensorKernels", linkerSettings: [.linkedLibrary("gomp")]),
        // Reverse-mode automatic differentiation on a tape.
        .target(name: "Autograd", dependencies: ["Tensors"]),
        // Layers, models, optimisers, schedules.
        .target(name: "NeuralNetworks", dependencies: ["Autograd", "Tensors"]),
        // Datasets, decoding, transforms, the prefetching loader.
        .target(name: "DataPipeline", dependencies: ["Tensors", "CTurboJPEG", "CPNG", "CZlib"],
                resources: [.copy("Resources/cifar10-train-subset.slpack"),
                            .copy("Resources/cifar10-test-subset.slpack")]),
        // NumPy .npy, safetensors, PyTorch .pth, TensorBoard events.
        .target(name: "Interop", dependencies: ["Tensors", "CZlib"]),
        // Sinkhorn-Knopp's fused row pass in C, with runtime CPU dispatch (AVX-512F / AVX2+FMA+F16C / portable).
        .target(name: "CSinkhornKernels"),
        // The SeLa algorithm: Sinkhorn-Knopp, schedules, pseudo-label pass, trainer.
        .target(name: "SelfLabelling", dependencies: ["CSinkhornKernels", "Distributed", "NeuralNetworks", "DataPipeline", "Interop", "Evaluation", "Tensors",
                                                      .product(name: "Logging", package: "swift-log")]),
        // kNN, linear probes, clustering metrics, galleries.
        .target(name: "Evaluation", dependencies: ["NeuralNetworks", "DataPipeline", "Interop", "Tensors", "CBLAS"]),
        // The command line: parse, validate, call.
        .executableTarget(name: "selflabel", dependencies: [
            "SelfLabelling", "Evaluation", "Interop", "DataPipeline", "NeuralNetworks", "Tensors", "Distributed",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test helpers every test target shares (comparisons, temporary folders).
        .target(name: "TestSupport", dependencies: ["Tensors"], path: "Tests/TestSupport"),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport", "CTensorKernels"]),
        .testTarget(name: "InteropTests", dependencies: ["TestSupport", "Interop", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AutogradTests", dependencies: ["TestSupport", "Autograd", "Tensors"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["TestSupport", "NeuralNetworks", "Autograd", "Tensors", "Interop"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DataPipelineTests", dependencies: ["TestSupport", "DataPipeline", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SelfLabellingTests", dependencies: ["TestSupport", "SelfLabelling", "Tensors", "Interop", "Distributed",
                                                               "CSinkhornKernels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "EvaluationTests", dependencies: ["TestSupport", "Evaluation", "Tensors", "Interop"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SelfLabelCLITests", dependencies: ["TestSupport", "selflabel", "DataPipeline", "Interop"],
                    resources: [.copy("Fixtures")]),
    ]
)
