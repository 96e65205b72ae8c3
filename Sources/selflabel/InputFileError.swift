/// A problem found in the contents of an input file by code that does not know the file's name (for example
/// NaN scores found by the solver): the CLI prints it as one line starting with the path.
struct InputFileError: Error, CustomStringConvertible {
    /// The input file.
    var path: String
    /// What is wrong, as one line.
    var reason: String

    var description: String { "\(path): \(reason)" }
}
