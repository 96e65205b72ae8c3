import DataPipeline
import Evaluation
import NeuralNetworks
import Tensors
import Testing

@Suite struct TenCropProbeTests {
    /// Ten-crop scoring (resize 40, ten 32×32 crops per image) scores every image once: the accuracies are
    /// fractions of the 20 images, top-1 never above top-5.
    @Test func tenCropScoringCountsEveryImageOnce() throws {
        var rng = Xoshiro256(seed: 1)
        let net = Architecture.convnetTiny.build(heads: [10], generator: &rng)
        let test = SubsetDataset(base: try EmbeddedCIFAR10.test, indices: Array(stride(from: 0, to: 1000, by: 50)))
        let sample = Tensor.zeros([2, 3, 32, 32])
        let probes = try LinearProbeTraining.probes(for: net, taps: ["conv3", "features"], sample: sample, classes: 10,
                                                    officialAlexNet: false, seed: 2)
        var settings = LinearProbeTraining.Settings()
        settings.batchSize = 40
        let training = LinearProbeTraining(network: net, probes: probes, settings: settings)
        let ten = try training.scoreTenCrop(test: test, resize: 40, crop: 32, mean: TransformPipeline.cifarMean,
                                            std: TransformPipeline.cifarStd)
        #expect(ten.map(\.tap) == ["conv3", "features"])
        for r in ten {
            // 20 images: every score is a multiple of 1/20 and top-1 ≤ top-5.
            #expect((r.top1 * 20).rounded() == r.top1 * 20 && r.top1 <= r.top5, "\(r)")
        }
    }
}
