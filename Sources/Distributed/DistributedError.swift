/// What can go wrong in a job of several processes; each case names the rank and the failing call.
public enum DistributedError: Error, Equatable, CustomStringConvertible {
    /// An MPI function returned an error code (the communicator returns errors instead of aborting).
    case mpiFailure(rank: Int, function: String, code: Int32, message: String)
    /// The MPI library cannot give the thread support SelfLabel needs.
    case threadSupport(required: String, provided: Int32)
    /// Another rank hit an error (it reports it and ends the job); this rank stops without a message of its own.
    case peerFailed(rank: Int)
    /// A launcher started this process but MPI could not be initialised.
    case initialisation(String)
    /// Something SelfLabel cannot do across several ranks yet.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .mpiFailure(rank, function, code, message):
            return "rank \(rank): \(function) failed with MPI error \(code): \(message)"
        case let .threadSupport(required, provided):
            return "the MPI library gives thread level \(provided), SelfLabel needs \(required)"
        case let .peerFailed(rank): return "rank \(rank) failed; stopping"
        case let .initialisation(why): return "MPI initialisation failed: \(why)"
        case let .unsupported(what): return "not available across several MPI ranks: \(what)"
        }
    }
}
