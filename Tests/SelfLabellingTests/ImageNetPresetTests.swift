import DataPipeline
import NeuralNetworks
import SelfLabelling
import Testing

/// `--preset imagenet` against the official ImageNet scripts. Each script's effective `main.py` arguments are
/// written out below by hand: the flags the script passes (yukimasano/self-label, scripts/alexnet.sh and
/// scripts/resnet.sh) and, for every flag it leaves out, `main.py`'s argparse default; plus the constants
/// `main.py` hard-codes (momentum 0.9, the quadratic label schedule, the `lr_schedule` lambda).
@Suite struct ImageNetPresetTests {
    /// One script's `main.py` arguments that decide the run's results, by official flag.
    struct Script: CustomTestStringConvertible, Sendable {
        var name: String
        var flags: [String: String]
        var testDescription: String { name }
    }

    static let mainDefaults: [String: String] = [
        "--epochs": "200", "--batch-size": "256", "--lr": "0.08", "--lrdrop": "150", "--wd": "-5", "--dtype": "f64",
        "--nopts": "100", "--augs": "3", "--lamb": "25", "--arch": "alexnet", "--archspec": "big", "--ncl": "3000",
        "--hc": "1",
    ]

    /// `scripts/alexnet.sh`: ARCH alexnet, HC 10, NCL 3000, BS 256, NEP 400, AUG 3, nopts 100 (WORKERS 24,
    /// device, paths and comment do not change results).
    static let alexnet = Script(name: "scripts/alexnet.sh", flags: mainDefaults.merging(
        ["--arch": "alexnet", "--hc": "10", "--ncl": "3000", "--batch-size": "256", "--epochs": "400", "--augs": "3",
         "--nopts": "100"]) { $1 })
    /// `scripts/resnet.sh`: the same with ARCH resnetv2 (and `--cpu`: Sinkhorn-Knopp on the CPU, as ours always is).
    static let resnet = Script(name: "scripts/resnet.sh", flags: mainDefaults.merging(
        ["--arch": "resnetv2", "--hc": "10", "--ncl": "3000", "--batch-size": "256", "--epochs": "400", "--augs": "3",
         "--nopts": "100"]) { $1 })

    /// The setting an official flag sets, as text comparable with the script's value.
    static func value(of flag: String, in c: TrainingConfiguration) -> String {
        switch flag {
        case "--epochs": return "\(c.epochs)"
        case "--batch-size": return "\(c.batchSize)"
        case "--lr": return "\(c.lr)"
        case "--lrdrop": return "\(c.lrdrop)"
        case "--wd": return c.wd == c.wd.rounded() ? "\(Int(c.wd))" : "\(c.wd)"
        case "--dtype": return c.dtype.rawValue
        case "--nopts": return "\(c.nopts)"
        case "--augs": return c.augs.level.map { "\($0)" } ?? c.augs.rawValue
        case "--lamb": return c.lamb == c.lamb.rounded() ? "\(Int(c.lamb))" : "\(c.lamb)"
        case "--arch": return c.arch.rawValue
        case "--archspec": return c.archspec.rawValue
        case "--ncl": return "\(c.ncl)"
        case "--hc": return "\(c.hc)"
        default: return "(no setting for \(flag))"
        }
    }

    @Test(arguments: [alexnet, resnet])
    func presetEqualsTheScript(_ script: Script) throws {
        var c = TrainingConfiguration()
        c.apply(.imagenet)
        if script.flags["--arch"] != "alexnet" { c = try c.applying(["arch": script.flags["--arch"]!]) }
        try c.validate()
        for (flag, expected) in script.flags.sorted(by: { $0.key < $1.key }) {
            #expect(Self.value(of: flag, in: c) == expected, "\(script.name) \(flag): script \(expected)")
        }
        // main.py's constants: SGD momentum 0.9, the quadratic label schedule, its step learning-rate schedule.
        #expect(c.momentum == 0.9 && c.schedule == .quadratic && c.lrSchedule == .imagenet)
        #expect(c.learningRateSchedule.rate(epoch: 149) == Float(0.08) && c.learningRateSchedule.rate(epoch: 150) == Float(0.08 * 0.1))
        #expect(c.learningRateSchedule.rate(epoch: 399) == Float(0.08 * 1e-3))
    }

    /// docs/OFFICIAL.md's numbers: for the scripts' ImageNet run (1,281,167 images, batch 256, 400 epochs,
    /// nopts 100) our 400 epochs take main.py's first 99 label steps at the same iterations; main.py's extra
    /// epoch 400 (its loop runs epochs 0…E) holds its 100th, 126 iterations before its end (its iteration
    /// clock `niter · 256` runs 113 samples per epoch ahead of the images seen, so it reaches 401.01·N).
    @Test func mainPysExtraEpochHoldsOnlyTheLastLabelStep() {
        var c = TrainingConfiguration()
        c.apply(.imagenet)
        let n = 1_281_167, batches = (n + c.batchSize - 1) / c.batchSize
        func fired(epochs: Int) -> [Int] {
            var s = LabelSchedule(spacing: c.schedule, epochs: c.epochs, samples: n, count: c.nopts)
            return (0..<(epochs * batches)).filter { s.takeIfDue(iteration: $0, batchSize: c.batchSize) }
        }
        let ours = fired(epochs: c.epochs), mainPy = fired(epochs: c.epochs + 1)
        #expect(ours == Array(mainPy.dropLast()))
        #expect(ours.count == 99 && ours.last! / batches == 392, "\(ours.count) steps, last in epoch \(ours.last! / batches)")
        #expect(mainPy.count == 100 && mainPy.last! / batches == 400 && 401 * batches - mainPy.last! == 126)
    }

    /// The preset replaces every setting, also on top of the embedded demo's (which `train` without `--data`
    /// starts from): the demo's network, heads and Sinkhorn-Knopp precision do not leak into it.
    @Test func presetOnTheDemoIsTheScriptToo() {
        var onDemo = TrainingConfiguration.embeddedDemo
        onDemo.apply(.imagenet)
        var plain = TrainingConfiguration()
        plain.apply(.imagenet)
        #expect(onDemo == plain)
        #expect(plain != TrainingConfiguration(), "the preset must differ from the bare defaults (hc, epochs)")
    }
}
