#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SelfLabelling

/// argparse's reading of negative numbers: `--wd -5` gives `--wd` the value -5 (swift-argument-parser would
/// take `-5` for a short option and report a missing value). Every argument that looks like a negative number
/// (`-5`, `-1e-4`, `-.5`) and follows a long option without `=` is joined to it (`--wd=-5`), which the parser
/// reads as the option's value; validation then rejects the value where negative numbers are invalid.
public enum NegativeNumbers {
    /// `arguments` with each negative number joined to the long option before it.
    public static func joined(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for argument in arguments {
            if isNegativeNumber(argument), let option = out.last, option.hasPrefix("--"), option.count > 2,
               !option.contains("=") {
                out[out.count - 1] = option + "=" + argument
            } else {
                out.append(argument)
            }
        }
        return out
    }

    /// Whether `s` is a negative decimal number (what argparse's `_negative_number_matcher` accepts, plus
    /// exponents): `-` then digits with an optional fraction and exponent.
    public static func isNegativeNumber(_ s: String) -> Bool {
        guard s.hasPrefix("-"), s.count > 1 else { return false }
        let body = s.dropFirst()
        guard let first = body.first, first.isASCII, first.isNumber || first == "." else { return false }
        return Double(body) != nil && !body.contains { $0.isLetter && $0 != "e" && $0 != "E" }
    }
}

extension SelfLabelCommand {
    /// The entry point: parses with negative numbers read as values (`NegativeNumbers`), then runs. First,
    /// before any other thread exists, SIGINT and SIGTERM are routed to one signal thread (`StopRequest`: no
    /// compute thread is ever interrupted by a handler) and SIGXFSZ is ignored, so a write beyond a file-size
    /// limit (`ulimit -f`) fails with EFBIG and is reported like a full disk (one line naming the file, no
    /// half-written file left) instead of killing the process.
    public static func main() {
        StopRequest.startSignalThread()
        signal(SIGXFSZ, SIG_IGN)
        do {  // ParsableCommand.main(_:), with commands that cannot run across MPI ranks refused there
            var command = try parseAsRoot(NegativeNumbers.joined(Array(CommandLine.arguments.dropFirst())))
            try DistributedJob.requireSupport(command)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
