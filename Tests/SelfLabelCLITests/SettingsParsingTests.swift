import ArgumentParser
import Foundation
import SelfLabelling
import selflabel
import Testing

@Suite struct SettingsParsingTests {
    /// Every option of `TrainingOptions` names a configuration setting (so `given` can apply it), and the
    /// option's spelling is the setting's name in kebab case.
    @Test func everyTrainingOptionIsASetting() throws {
        let names = Set(TrainingConfiguration.settingNames)
        let labels = Mirror(reflecting: try TrainingOptions.parse([])).children.compactMap(\.label).map { String($0.dropFirst()) }
        for label in labels { #expect(names.contains(label), "\(label) is not a TrainingConfiguration setting") }
        // Settings without an option of their own: set by presets and the demo.
        #expect(names.subtracting(labels) == ["lrSchedule"])
        let help = TrainCommand.helpMessage()
        for label in labels where label != "data" {
            let option = TrainingConfiguration.option(for: label)
            #expect(help.contains(option + " ") || help.contains(option + ","), "\(label) not in help as its kebab-case name")
        }
    }

    /// Only the options given count as explicit; a preset counts as every setting it governs.
    @Test func givenSettingsAndTheirValues() throws {
        let command = try TrainCommand.parse(["--lr", "0.3", "--dtype", "f32", "--save-scores", "--sk-max-iters", "20"])
        let given = command.settings.given
        #expect(Set(given.keys) == ["lr", "dtype", "saveScores", "skMaxIters"])
        let c = try command.resolvedConfiguration()
        #expect(c.lr == 0.3 && c.dtype == .f32 && c.saveScores && c.skMaxIters == 20 && c.data == nil)
        #expect(c.epochs == TrainingConfiguration.embeddedDemo.epochs)
        let preset = try TrainCommand.parse(["--preset", "cifar", "--workers", "3"])
        #expect(preset.explicitSettings == TrainingConfiguration.presetSettings.union(["workers"]))
    }

    /// argparse reads `--wd -5` as a value; so do we, for every command (then validation judges the value).
    @Test(arguments: [
        (["train", "--wd", "-5"], nil),
        (["train", "--wd", "-3.5", "--lr", "0.01"], nil),
        (["train", "--lamb", "-5"], "--lamb -5.0 must be a positive number"),
        (["train", "--epochs", "-2"], "--epochs -2 must be at least 1"),
        (["train", "--sk-tol", "-1e-3"], "--sk-tol -0.001 must be a positive number"),
        (["bench", "gemm", "--m", "-4"], "--m, --n and --k must be positive"),
        (["eval", "cluster", "--labels", "l.npy", "--targets", "t.npy", "--clusters", "-3"], "--clusters must be at least 1, got -3"),
    ] as [([String], String?)])
    func negativeNumbersAreValues(_ arguments: [String], _ message: String?) {
        let joined = NegativeNumbers.joined(arguments)
        do {
            _ = try SelfLabelCommand.parseAsRoot(joined)
            #expect(message == nil, "\(arguments) parsed, expected an error containing \(message ?? "")")
        } catch {
            let text = SelfLabelCommand.message(for: error)
            #expect(!text.contains("Missing value"), "\(arguments): \(text)")
            if let message { #expect(text.contains(message), "\(arguments): \(text)") } else {
                Issue.record("\(arguments): \(text)")
            }
        }
    }

    @Test func negativeNumberRecognition() {
        #expect(NegativeNumbers.joined(["--wd", "-5", "-x", "--a=1", "-2", "--b", "-1e-4", "--c", "-.5", "--d", "-inf"])
                == ["--wd=-5", "-x", "--a=1", "-2", "--b=-1e-4", "--c=-.5", "--d", "-inf"])
    }

    /// The built binary reads them too, and names the value a rule rejects.
    @Test func negativeNumbersInTheBuiltBinary() throws {
        let r = try runSelflabel(["train", "--wd", "-5", "--lamb", "-5"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--lamb -5.0 must be a positive number") && !r.stderr.contains("Missing value"),
                "stderr: \(r.stderr)")
    }
}
