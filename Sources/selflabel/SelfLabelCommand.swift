import ArgumentParser

/// `selflabel`: the command-line entry point. Thin by design: each subcommand parses and validates its
/// options, then calls library code.
@main
public struct SelfLabelCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "selflabel",
        abstract: "Self-labelling via simultaneous clustering and representation learning (SeLa), in Swift.",
        subcommands: [TrainCommand.self, LabelCommand.self, FeaturesCommand.self, EvalCommand.self,
                      ExportLabelsCommand.self, VisualizeCommand.self, ReportCommand.self, ConvertCommand.self, ExportCommand.self,
                      BenchCommand.self]
    )

    public init() {}
}

/// `selflabel bench …`: measurements that print one JSON object per line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks; each prints one JSON object per line.",
        subcommands: [BenchGEMMCommand.self, BenchTrainStepCommand.self, BenchDataCommand.self,
                      BenchSinkhornCommand.self, BenchMemoryCommand.self, BenchSelaCommand.self,
                      BenchLabelPassCommand.self, BenchAllreduceCommand.self]
    )
}
