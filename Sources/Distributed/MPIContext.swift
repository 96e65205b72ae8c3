import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// Starting and ending the MPI side of a process.
///
/// A process launched by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`) or by `srun`/another PMI launcher
/// (`PMI_SIZE`, `PMIX_RANK`) initialises MPI (`MPI_Init_thread`, serialized thread level) and gets the job's
/// communicator; `MPI_Finalize` runs when the process exits. Any other process gets
/// `SingleProcessCommunicator` without a single MPI call, so a run without a launcher is exactly a run of a
/// program without MPI.
public enum MPIContext {
    /// The environment variables a launcher sets, by which a launched process is recognised.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]

    /// Whether `environment` says that a launcher started this process.
    public static func isLaunched(environment: [String: String]) -> Bool {
        launcherVariables.contains { environment[$0] != nil }
    }

    nonisolated(unsafe) private static var started: (any Communicator)? = nil

    /// The job's communicator: MPI's when launched by a launcher (initialising MPI on the first call), else the
    /// single-process one. Call it from the main thread before any other thread uses it.
    public static func start(environment: [String: String]) throws -> any Communicator {
        if let started { return started }
        guard isLaunched(environment: environment) else {
            started = SingleProcessCommunicator.shared
            return SingleProcessCommunicator.shared
        }
        var provided: Int32 = 0
        let code = MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided)
        guard code == cmpi_success() else { throw DistributedError.initialisation("MPI_Init_thread returned \(code)") }
        atexit { MPIContext.finalize() }
        guard provided >= cmpi_thread_serialized() else {
            throw DistributedError.threadSupport(required: "MPI_THREAD_SERIALIZED", provided: provided)
        }
        let world = try MPICommunicator(comm: cmpi_comm_world())
        started = world
        return world
    }

    /// Ends the job on every rank with `code` (`MPI_Abort`), so that no rank waits forever for one that
    /// failed. Without MPI it exits the process with `code`.
    public static func abort(code: Int32) -> Never {
        if started is MPICommunicator { MPI_Abort(cmpi_comm_world(), code) }
        exit(code)
    }

    /// `MPI_Finalize` if MPI was initialised and not finalised yet (registered with `atexit` by `start`).
    public static func finalize() {
        var initialised: Int32 = 0, finalised: Int32 = 0
        MPI_Initialized(&initialised)
        MPI_Finalized(&finalised)
        if initialised != 0 && finalised == 0 { MPI_Finalize() }
    }
}
