import Foundation
import Interop
import NeuralNetworks
import SelfLabelling
import Tensors
import TestSupport
import Testing

@Suite struct PyTorchExportTests {
    /// PyTorch file → our network → `.pth` → read again: every tensor is bit-identical to the original, and the
    /// bytes equal the committed `swift_export.pth`, which `pytorch_interop.py check-export` opened with
    /// `torch.load(weights_only=True)` and loaded strictly into the official AlexNet class (its result is
    /// `swift_export_check.json`).
    @Test func roundTripIsExactAndMatchesTheFilePyTorchChecked() throws {
        let fx = PyTorchModelFixture.named("alexnet_multi_zip")
        let source = try PyTorchCheckpoint(contentsOf: fx.path)
        let network = fx.network(heads: source.heads)
        try source.load(into: network)
        let exported = try network.pytorchStateDict()
        let bytes = try TorchFile.serialized(exported)
        let temporary = try temporaryFolder("export") + "/swift_export.pth"
        try TorchFile.write(exported, to: temporary)
        let back = try PyTorchCheckpoint(contentsOf: temporary)
        let original = Dictionary(uniqueKeysWithValues: source.tensors.map { ($0.name, $0.tensor) })
        #expect(back.tensors.count == source.tensors.count && back.heads == source.heads)
        for (name, t) in back.tensors {
            let o = try #require(original[name], "\(name) not in the source")
            #expect(t.shape == o.shape && t.floats() == o.floats(), "\(name) changed in the round trip")
        }
        let counters = exported.dictItems!.filter { $0.key.string!.hasSuffix("num_batches_tracked") }
        #expect(counters.count == 5 && counters.allSatisfy { $0.value.tensor?.dtype == .int64 && $0.value.tensor?.shape == [] })
        let committed = PyTorchModelFixture.directory + "/swift_export.pth"
        let same = (try? Data(contentsOf: URL(fileURLWithPath: committed))) == Data(bytes)
        #expect(same, "the export differs from \(committed); if intended, copy \(temporary) there and rerun pytorch_interop.py check-export")
        if same { try? FileManager.default.removeItem(atPath: temporary) }
        struct Check: Decodable { var weights_only_load: String; var official_alexnet_strict_load: String; var values_equal: Bool }
        let check = try JSONDecoder().decode(Check.self, from: Data(contentsOf: URL(fileURLWithPath: PyTorchModelFixture.directory + "/swift_export_check.json")))
        #expect(check.weights_only_load == "ok" && check.official_alexnet_strict_load == "ok" && check.values_equal)
    }

    @Test func exportNamesFollowTheOfficialAndTorchvisionClasses() throws {
        var rng = Xoshiro256(seed: 3)
        let v2 = MultiHeadNetwork(architecture: "resnetv2", trunk: PreActResNetTrunk(blocks: [1, 1, 1, 1], width: 4, generator: &rng),
                                  heads: [Linear(128, 6, generator: &rng)])
        let v2Keys = try v2.pytorchStateDict().dictItems!.map { $0.key.string! }
        #expect(v2Keys.contains("top_layer.0.weight") && !v2Keys.contains("top_layer.weight"))
        let r18 = MultiHeadNetwork(architecture: "resnet18", trunk: ResNetV1Trunk(blocks: [1, 1, 1, 1], width: 4, block: .basic, generator: &rng),
                                   heads: [Linear(32, 7, generator: &rng)])
        let tv = try r18.pytorchStateDict(layout: .torchvision).dictItems!.map { $0.key.string! }
        #expect(tv.first == "conv1.weight" && tv.contains("bn1.running_mean") && tv.contains("layer2.0.downsample.0.weight")
                && tv.contains("fc.weight") && !tv.contains { $0.hasPrefix("features") || $0.hasPrefix("top_layer") })
        let twoHeads = MultiHeadNetwork(architecture: "resnet18", trunk: ResNetV1Trunk(blocks: [1, 1, 1, 1], width: 4, block: .basic, generator: &rng),
                                        heads: [Linear(32, 7, generator: &rng), Linear(32, 7, generator: &rng)])
        #expect(throws: PyTorchImportError.self) { _ = try twoHeads.pytorchStateDict(layout: .torchvision) }
    }
}
