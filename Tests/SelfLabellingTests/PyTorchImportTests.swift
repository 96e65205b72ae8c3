import Autograd
import Foundation
import Interop
import NeuralNetworks
import SelfLabelling
import Tensors
import Testing

/// One model written by `scripts/fixtures/pytorch_interop.py`, with PyTorch's outputs on the fixed input.
struct PyTorchModelFixture: Decodable, CustomTestStringConvertible, Sendable {
    struct Spec: Decodable, Sendable {
        var arch: String
        var cfg: [Stage]?, flat: Int?, hidden: Int?, block: String?, layers: [Int]?, width: Int?
    }
    /// An AlexNet configuration entry: [out, kernel, stride, padding] or "M".
    enum Stage: Decodable, Sendable {
        case conv([Int]), pool
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode([Int].self) { self = .conv(v) } else { _ = try c.decode(String.self); self = .pool }
        }
    }
    var name: String, file: String, format: String, note: String, spec: Spec, input: [Int]
    var features: [Float], feature_shape: [Int], heads: [[Float]], head_shapes: [[Int]]
    var labels: [[Int64]]?
    var testDescription: String { name }

    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/pytorch").path
    static let all: [PyTorchModelFixture] = {
        struct Manifest: Decodable { var fixtures: [PyTorchModelFixture] }
        let url = URL(fileURLWithPath: directory + "/manifest.json")
        return try! JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url)).fixtures
    }()
    static func named(_ n: String) -> PyTorchModelFixture { all.first { $0.name == n }! }
    var path: String { Self.directory + "/" + file }

    /// The tiny network of `spec` with one head per entry of `heads`.
    func network(heads: [Int]) -> MultiHeadNetwork {
        var rng = Xoshiro256(seed: 99)
        let trunk: any FeatureExtractor
        switch spec.arch {
        case "alexnet":
            let stages: [AlexNetTrunk.Stage] = spec.cfg!.map {
                if case .conv(let v) = $0 { return .conv(v[0], kernel: v[1], stride: v[2], padding: v[3]) }
                return .maxPool
            }
            trunk = AlexNetTrunk(configuration: stages, flatDimension: spec.flat!, hidden: spec.hidden!, generator: &rng)
        case "resnetv1":
            trunk = ResNetV1Trunk(blocks: spec.layers!, width: spec.width!, block: spec.block == "basic" ? .basic : .bottleneck,
                                  generator: &rng)
        default:
            trunk = PreActResNetTrunk(blocks: spec.layers!, width: spec.width!, generator: &rng)
        }
        return MultiHeadNetwork(architecture: "tiny " + spec.arch, trunk: trunk,
                                heads: heads.map { Linear(trunk.featureDimension, $0, generator: &rng) })
    }

    /// The fixed input `x[i] = sin(0.37 i) + 0.5 cos(0.011 i)` of the generating script.
    var fixedInput: Tensor {
        Tensor(shape: input) { i in Float(sin(0.37 * Double(i)) + 0.5 * cos(0.011 * Double(i))) }
    }
}

/// max |a − e| ≤ rtol · max |e| (the relative tolerance of the issue, scaled by the output's magnitude).
func expectRelativelyClose(_ a: [Float], _ e: [Float], rtol: Double, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = max(e.map { abs(Double($0)) }.max() ?? 0, 1e-12)
    let worst = zip(a, e).map { abs(Double($0) - Double($1)) }.max() ?? 0
    #expect(a.count == e.count && worst <= rtol * scale,
            "\(what): max |difference| \(worst), allowed \(rtol * scale)", sourceLocation: sourceLocation)
}

@Suite struct PyTorchImportTests {
    /// Every fixture loads into the matching network, and features and every head equal PyTorch's on the fixed
    /// input within 1e-5 relative.
    @Test(arguments: PyTorchModelFixture.all)
    func outputsEqualPyTorch(_ fx: PyTorchModelFixture) throws {
        let file = try PyTorchCheckpoint(contentsOf: fx.path)
        #expect(file.format == fx.format)
        #expect(fx.head_shapes.prefix(file.heads.count).map { $0[1] } == file.heads)
        let network = fx.network(heads: file.heads)
        try file.load(into: network)
        network.setTraining(false)
        let tape = Tape(recording: false)
        let out = try network.forward(tape.constant(fx.fixedInput))
        #expect(out.features.shape == fx.feature_shape)
        expectRelativelyClose(out.features.value.scalars, fx.features, rtol: 1e-5, "\(fx.name) features")
        for (h, logits) in out.heads.enumerated() {
            expectRelativelyClose(logits.value.scalars, fx.heads[h], rtol: 1e-5, "\(fx.name) head \(h)")
        }
    }

    @Test func officialCheckpointLayoutLabelsAndIgnoredParts() throws {
        let fx = PyTorchModelFixture.named("alexnet_checkpoint_dataparallel")
        let file = try PyTorchCheckpoint(contentsOf: fx.path)
        #expect(file.layout == .official && file.heads == [4, 4])
        #expect(file.tensors.contains { $0.name == "features.0.weight" } && !file.tensors.contains { $0.name.contains("module") })
        let l = try #require(file.labels)
        #expect(l.rows == 2 && l.count == 10 && l.values == fx.labels!.flatMap { $0 })
        let ignored = file.ignored.joined(separator: " ")
        #expect(ignored.contains("'optimizer'") && ignored.contains("'epoch' (5)") && ignored.contains("'arch'")
                && ignored.contains("num_batches_tracked"), "\(file.ignored)")
    }

    @Test func rotationHeadIsReportedAndSkippedUnlessKept() throws {
        let fx = PyTorchModelFixture.named("alexnet_rotation_bf16")
        let skipped = try PyTorchCheckpoint(contentsOf: fx.path)
        #expect(skipped.heads == [5, 5] && !skipped.tensors.contains { $0.name.hasPrefix("top_layer2") })
        #expect(skipped.ignored.contains { $0.contains("rotation head") })
        let kept = try PyTorchCheckpoint(contentsOf: fx.path, keepRotationHead: true)
        #expect(kept.heads == [5, 5, 4])
    }

    @Test func singleSequentialHeadAndTorchvisionNamesAreRenamed() throws {
        let v2 = try PyTorchCheckpoint(contentsOf: PyTorchModelFixture.named("resnetv2_single_zip").path)
        #expect(v2.tensors.contains { $0.name == "top_layer.weight" } && v2.heads == [6])
        let tv = try PyTorchCheckpoint(contentsOf: PyTorchModelFixture.named("torchvision_resnet18_pp").path)
        #expect(tv.layout == .torchvision)
        let names = Set(tv.tensors.map(\.name))
        #expect(names.contains("features.0.weight") && names.contains("features.1.running_var")
                && names.contains("features.5.0.downsample.0.weight") && names.contains("top_layer.bias"))
        #expect(tv.labels?.rows == 1 && tv.labels?.count == 10)
        let labelled = try PyTorchCheckpoint(contentsOf: PyTorchModelFixture.named("torchvision_resnet50_labels_legacy").path)
        #expect(labelled.labels?.values == (0..<10).map { Int64($0 % 3) })
    }

    /// Tiny widths fit no named architecture: the user is asked for --arch, and a wrong --arch loads nothing.
    @Test func ambiguousArchitectureAsksForArchAndMismatchLoadsNothing() throws {
        let file = try PyTorchCheckpoint(contentsOf: PyTorchModelFixture.named("alexnet_multi_zip").path)
        #expect { try file.inferArchitecture() } throws: { ($0 as? PyTorchImportError)?.description.contains("--arch") == true }
        var rng = Xoshiro256(seed: 1)
        let wrong = Architecture.convnetTiny.build(heads: file.heads, generator: &rng)
        let before = wrong.stateDict().map(\.tensor.scalars)
        #expect { try file.load(into: wrong) } throws: { error in
            guard case .mismatch(_, _, let missing, let unexpected, let shapes)? = error as? PyTorchImportError else { return false }
            return !(missing.isEmpty && unexpected.isEmpty && shapes.isEmpty)
        }
        #expect(wrong.stateDict().map(\.tensor.scalars) == before)
    }

    /// A head with no classes would make no network: refused with the key, instead of reaching a precondition.
    @Test func emptyHeadIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("selflabel-empty-head-\(UUID().uuidString).pth").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TorchFile.write(.dict([(.string("features.0.weight"), .tensor(TorchTensor(float32: [1], shape: [1, 1, 1, 1]))),
                                   (.string("top_layer.weight"), .tensor(TorchTensor(float32: [], shape: [0, 4])))]), to: path)
        #expect { _ = try PyTorchCheckpoint(contentsOf: path) } throws: { "\($0)".contains("top_layer.weight has shape [0, 4]") }
    }
}
