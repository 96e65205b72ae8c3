import Foundation
import NeuralNetworks
import SelfLabelling
import Tensors
import Testing

/// A checkpoint's `selflabel.state` as written before settings were typed and the progress was one value
/// (taken from a real run of the embedded demo, epoch 3).
private let stateJSONBeforeTypedSettings = #"""
{"batch":0,"configuration":{"arch":"convnet_tiny","archspec":"big","augs":3,"backend":"cpu","batchSize":128,"comment":"selflabel-demo","cropSize":0,"dtype":"f32","epochs":16,"exp":"selflabel-demo","hc":10,"lamb":10,"logIntv":1,"logIter":10,"lr":0.05,"lrSchedule":"cifar","lrdrop":150,"momentum":0.9,"ncl":100,"nopts":10,"paugs":0,"saveScores":false,"schedule":"linear","seed":42,"skMaxIters":1000,"skStorage":"f32","skTol":0.1,"threads":0,"wd":-4,"workers":1},"epoch":3,"epochLossCount":0,"epochLossSum":0,"iteration":120,"labelOptimisations":2,"lowestLoss":3.8106157680511474,"reason":"epoch","scheduleRemaining":[18889,28333.5,37778,47222.5,56667,66111.49999999999,75556,85000.5,130000],"version":1}
"""#

@Suite struct TrainingSettingsTests {
    /// Old checkpoints load: every field lands in the typed configuration and the progress, the settings added
    /// since (`channels`, `normalization`) take their defaults, and writing the state again gives the same bytes
    /// plus those settings.
    @Test func checkpointStateOfTheEarlierFormatDecodesAndReencodesIdentically() throws {
        let state = try JSONDecoder().decode(TrainingCheckpoint.State.self, from: Data(stateJSONBeforeTypedSettings.utf8))
        // Settings added since keep what that run did: cap 1000 (stored), plain, empty clusters reported,
        // warm starts (issue 14 §1 changed the defaults of new runs only).
        var legacy = TrainingConfiguration.embeddedDemo
        legacy.skMaxIters = 1000
        legacy.skAcceleration = nil; legacy.skEmptyClusters = nil; legacy.skWarmStart = nil
        #expect(state.configuration == legacy)
        #expect(state.configuration.sinkhornAcceleration == .off && state.configuration.sinkhornEmptyClusters == .report)
        #expect(state.configuration.sinkhornWarmStart)
        #expect(state.configuration.arch == .convnetTiny && state.configuration.dtype == .f32)
        #expect(state.configuration.skStorage == .f32 && state.configuration.backend == .cpu)
        #expect(state.progress.epoch == 3 && state.progress.batch == 0 && state.progress.iteration == 120)
        #expect(state.progress.labelOptimisations == 2 && state.progress.lowestLoss == 3.8106157680511474)
        #expect(state.progress.schedule.remaining.count == 9 && state.progress.schedule.remaining[5] == 66111.49999999999)
        #expect(state.reason == "epoch" && state.version == 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(state.configuration.channels == 0 && state.configuration.normalization == "auto")
        let expected = stateJSONBeforeTypedSettings
            .replacingOccurrences(of: #""comment""#, with: #""channels":0,"comment""#)
            .replacingOccurrences(of: #""paugs""#, with: #""normalization":"auto","paugs""#)
        #expect(String(decoding: try encoder.encode(state), as: UTF8.self) == expected)
    }

    /// A stored name the program does not know is an error, never a silent default.
    @Test(arguments: [("\"skStorage\":\"f32\"", "\"skStorage\":\"f8\""), ("\"dtype\":\"f32\"", "\"dtype\":\"f16\""),
                      ("\"backend\":\"cpu\"", "\"backend\":\"gpu\""), ("\"arch\":\"convnet_tiny\"", "\"arch\":\"vgg\"")])
    func unknownStoredNamesAreErrors(_ replace: (String, String)) {
        let json = stateJSONBeforeTypedSettings.replacingOccurrences(of: replace.0, with: replace.1)
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(TrainingCheckpoint.State.self, from: Data(json.utf8))
        }
    }

    /// Given settings go in exactly (doubles bit for bit); the rest stay.
    @Test func applyingGivenSettings() throws {
        var cifar = TrainingConfiguration()
        cifar.apply(.cifar)
        #expect(try cifar.applying([:]) == cifar)
        #expect(try TrainingConfiguration.embeddedDemo.applying([:]) == TrainingConfiguration.embeddedDemo)
        let c = try TrainingConfiguration().applying(["lr": 0.1 + 0.2, "wd": log10(5e-4), "seed": UInt64.max - 1,
                                                      "dtype": "f32", "skStorage": SinkhornStorage.bf16,
                                                      "arch": "alexnet_cifar", "saveScores": true, "data": "d"])
        #expect(c.lr == 0.1 + 0.2 && c.wd == log10(5e-4) && c.seed == UInt64.max - 1)
        #expect(c.dtype == .f32 && c.skStorage == .bf16 && c.arch == .alexnetCIFAR && c.saveScores && c.data == "d")
        #expect(c.epochs == TrainingConfiguration().epochs)
    }

    @Test("official names: --arch resnetv1 is resnet50; --momentum is a setting checked to lie in [0, 1)")
    func officialNames() throws {
        #expect(try TrainingConfiguration().applying(["arch": "resnetv1"]).arch == .resnet50)
        #expect(Architecture.named("resnetv1") == .resnet50 && Architecture.named("resnetv3") == nil)
        let m = try TrainingConfiguration().applying(["momentum": 0.5])
        #expect(m.momentum == 0.5)
        try m.validate()
        for bad in [1.0, -0.1] {
            #expect { try TrainingConfiguration().applying(["momentum": bad]).validate() } throws: {
                "\($0)" == "--momentum \(bad) must be in [0, 1)"
            }
        }
        // Not a number is refused by name before it reaches the settings record (which is JSON).
        for name in ["momentum", "lr", "lamb", "wd", "skTol"] {
            #expect { try TrainingConfiguration().applying([name: Double.nan]) } throws: {
                "\($0)" == TrainingConfiguration.option(for: name) + " nan must be a finite number"
            }
        }
    }

    @Test(arguments: [
        (["skStorage": "f8"], "--sk-storage f8 must be f32, bf16 or f16"),
        (["dtype": "f16"], "--dtype f16 must be f32 or f64"),
        (["backend": "gpu"], "--backend gpu must be cpu or reference"),
        (["schedule": "cubic"], "--schedule cubic must be quadratic or linear"),
        (["noSuchSetting": 1], "--no-such-setting 1 is not a training setting"),
    ] as [([String: any Sendable], String)])
    func applyingRejectsUnknownNames(_ given: [String: any Sendable], _ message: String) {
        #expect(throws: TrainingConfigurationError.self) { _ = try TrainingConfiguration().applying(given) }
        do { _ = try TrainingConfiguration().applying(given) } catch { #expect(error.description == message) }
    }

    /// The cross-setting rule lives in `validate()`; the solver applies the same rule.
    @Test func sixteenBitStorageNeedsF32Arithmetic() throws {
        var c = TrainingConfiguration()
        c.dtype = .f64; c.skStorage = .bf16
        #expect(throws: TrainingConfigurationError(option: "--sk-storage", value: "bf16",
                                                   rule: "needs --dtype f32 (f64 keeps the matrix in float64)")) {
            try c.validate()
        }
        c.dtype = .f32
        try c.validate()
        #expect(throws: SinkhornError.self) { _ = try SinkhornKnoppSolver(options: SinkhornOptions(precision: .f64, storage: .f16)) }
    }

    @Test func optionNamesAndPresetSettings() {
        #expect(TrainingConfiguration.option(for: "skMaxIters") == "--sk-max-iters")
        #expect(TrainingConfiguration.option(for: "batchSize") == "--batch-size")
        #expect(TrainingConfiguration.presetSettings == ["hc", "ncl", "lamb", "nopts", "lr", "batchSize", "epochs", "wd",
                                                         "schedule", "lrSchedule", "arch", "labelHeads", "skTol", "augs",
                                                         "lrdrop", "rotnet"])
        #expect(TrainingConfiguration.settingNames.contains("skStorage") && TrainingConfiguration.settingNames.count == 47)
    }

    /// `--resume` keeps the stored run: changeable settings come from the command line, others must agree.
    @Test func resumeComparison() throws {
        let stored = TrainingConfiguration.embeddedDemo
        var mine = stored
        mine.workers = 3; mine.lamb = 25; mine.data = "elsewhere"
        let r = try mine.resumed(from: stored, explicit: ["workers"])
        #expect(r.workers == 3 && r.lamb == stored.lamb && r.data == "elsewhere")
        // Without --data the stored run's data is used, never the embedded demo's (was: data = nil).
        var ran = stored
        ran.data = "/stored/data"
        mine.data = nil
        #expect(try mine.resumed(from: ran, explicit: ["workers"]).data == "/stored/data")
        mine.data = "elsewhere"
        #expect(throws: TrainingConfigurationError(option: "--lamb", value: "25",
            rule: "differs from the resumed run's 10: the labels so far were solved with it; "
                + "--resume may change only --epochs and the settings that do not affect results")) {
            _ = try mine.resumed(from: stored, explicit: ["workers", "lamb"])
        }
        // --epochs moves the end (checked against the progress by Trainer.ResumePoint.changeLength); without
        // it the stored end stays.
        var longer = stored
        longer.epochs = stored.epochs + 5
        #expect(try longer.resumed(from: stored, explicit: ["epochs"]).epochs == stored.epochs + 5)
        #expect(try longer.resumed(from: stored, explicit: []).epochs == stored.epochs)
        // Each refused setting says what of the finished part depends on it.
        for (name, phrase) in [("batchSize", "count batches of that size"), ("lr", "finished epochs were trained with it"),
                               ("hc", "network and labels were built for it"), ("nopts", "were placed by it"),
                               ("seed", "were drawn from it"), ("augs", "augmented with it")] {
            #expect(TrainingConfiguration.resumeRefusal(for: name).contains(phrase), "\(name)")
        }
        mine.lamb = stored.lamb
        mine.dtype = .f64
        #expect(throws: TrainingConfigurationError.self) { _ = try mine.resumed(from: stored, explicit: ["dtype"]) }
    }

    /// A new length on resume: main.py's learning-rate schedule does not depend on it; the CIFAR one does, and
    /// the note names the first finished epoch whose rate would have differed.
    @Test func learningRateNoteOnANewLength() {
        var imagenet = TrainingConfiguration(), longer = TrainingConfiguration()
        longer.epochs = 400
        #expect(TrainingRun.learningRateNote(stored: imagenet, new: longer, finishedEpochs: 200) == nil)
        imagenet.lrSchedule = .cifar; imagenet.lr = 0.05; imagenet.epochs = 200
        longer.lrSchedule = .cifar; longer.lr = 0.05; longer.epochs = 400
        // cifar.py: 200 epochs drop ×0.1 at 120 and 160, 400 epochs at 240 and 320. Before 120 they agree.
        #expect(TrainingRun.learningRateNote(stored: imagenet, new: longer, finishedEpochs: 120) == nil)
        let note = TrainingRun.learningRateNote(stored: imagenet, new: longer, finishedEpochs: 121)
        #expect(note?.contains("(epoch 120: 0.05 instead of 0.005") == true, "\(note ?? "nil")")
    }

    @Test func kernelsByName() {
        #expect(Kernels(named: .reference).names == ["reference"])
        #expect(Kernels(named: .cpu).names == ["onednn", "reference"])
        #expect(TrainingConfiguration().architecture == .alexnet)
        var c = TrainingConfiguration()
        c.archspec = .small
        #expect(c.architecture == .alexnetSmall)
    }
}
