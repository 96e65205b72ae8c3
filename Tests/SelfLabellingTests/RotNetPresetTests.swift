import SelfLabelling
import Testing

/// `--preset rotnet` is retrain_with_rotnet.py's defaults (its argparse defaults and its `Optimizer`).
@Suite struct RotNetPresetTests {
    @Test func presetEqualsTheScriptsDefaults() throws {
        var c = TrainingConfiguration()
        c.apply(.rotnet)
        try c.validate()
        // --epochs 90, --batch-size 64, --lr 0.05, --lrdrop 30, --arch alexnet, --archspec big
        #expect(c.epochs == 90 && c.batchSize == 64 && c.lr == 0.05 && c.lrdrop == 30)
        #expect(c.arch == .alexnet && c.archspec == .big)
        // Optimizer: momentum 0.9, weight_decay 10**(-5); the rotation head is the script's whole point.
        #expect(c.momentum == 0.9 && c.wd == -5 && c.hasRotationHead)
        // lr_schedule: (lr * 0.1 ** (epoch // lrdrop)) * (epoch < 80) + (epoch >= 80) * lr * 0.1 ** 3
        let s = c.learningRateSchedule
        #expect(s.rate(epoch: 29) == Float(0.05) && s.rate(epoch: 30) == Float(0.05 * 0.1))
        #expect(s.rate(epoch: 79) == Float(0.05 * 0.1 * 0.1) && s.rate(epoch: 80) == Float(0.05 * 1e-3))
        // An explicit option still wins over the preset.
        let mine = try c.applying(["lr": 0.1])
        #expect(mine.lr == 0.1 && mine.learningRateSchedule.rate(epoch: 80) == Float(0.1 * 1e-3))
    }
}
