import SelfLabelling
import Testing
import selflabel

/// The official scripts' spellings reach the same settings as ours (docs/OFFICIAL.md lists every flag).
@Suite struct OfficialFlagNameTests {
    @Test(arguments: [
        (["--imagenet-path", "d"], ["--data", "d"]),            // main.py
        (["--datadir", "d"], ["--data", "d"]),                  // cifar.py
        (["--log-interval", "3"], ["--log-intv", "3"]),         // retrain_with_rotnet.py
        (["--logiter", "5"], ["--log-iter", "5"]),              // retrain_with_rotnet.py
        (["--arch", "resnetv1"], ["--arch", "resnet50"]),       // main.py's name of torchvision's ResNet-50
    ])
    func officialSpellingIsOurs(_ official: [String], _ ours: [String]) throws {
        let a = try TrainCommand.parse(official), b = try TrainCommand.parse(ours)
        #expect(try a.resolvedConfiguration() == b.resolvedConfiguration())
        #expect(a.explicitSettings == b.explicitSettings)
    }

    /// `--resume` is a flag and an option (cifar.py's `--resume PATH`, `-r PATH`); the next option is never
    /// taken for its path.
    @Test func resumeWithAndWithoutPath() throws {
        #expect(try TrainCommand.parse([]).resume == nil)
        #expect(try TrainCommand.parse(["--resume"]).resume == .experiment)
        #expect(try TrainCommand.parse(["--resume", "--epochs", "9"]).resume == .experiment)
        #expect(try TrainCommand.parse(["--resume", "exp/checkpoints/c.safetensors"]).resume == .path("exp/checkpoints/c.safetensors"))
        #expect(try TrainCommand.parse(["-r", "exp"]).resume == .path("exp"))
        #expect(try TrainCommand.parse(["--resume=exp", "--epochs", "9"]).resume == .path("exp"))
        // Only a typed --epochs moves a resumed run's end; a preset's does not count.
        #expect(!(try TrainCommand.parse(["--preset", "imagenet", "--resume"]).explicitSettings.contains("epochs")))
        #expect(try TrainCommand.parse(["--preset", "imagenet", "--resume", "--epochs", "9"]).explicitSettings.contains("epochs"))
        #expect(try TrainCommand.parse(["--preset", "imagenet"]).explicitSettings.contains("epochs"))
    }
}
