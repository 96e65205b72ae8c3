import ArgumentParser
import Distributed
import Foundation

/// A command that runs as one rank of an `mpirun`/`srun` job (the others refuse to start under a launcher of
/// several ranks, instead of running R copies that write the same files).
protocol DistributedCommand {}

/// How a command runs under MPI: the job's communicator, and errors that end the whole job.
enum DistributedJob {
    /// The job's communicator (`MPIContext.start`): MPI's under a launcher, else the single process.
    static func start() throws -> any Communicator {
        try MPIContext.start(environment: ProcessInfo.processInfo.environment)
    }

    /// The number of ranks a launcher announced (`OMPI_COMM_WORLD_SIZE`, `PMI_SIZE`, `SLURM_NTASKS`), nil
    /// when none did.
    static func launchedRanks(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        guard MPIContext.isLaunched(environment: environment) else { return nil }
        for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"] {
            if let v = environment[name], let n = Int(v) { return n }
        }
        return 2  // launched, size unknown: treat as several ranks
    }

    /// Throws a validation error naming the command when it was launched as several ranks but cannot use them.
    static func requireSupport(_ command: ParsableCommand) throws {
        let name = type(of: command).configuration.commandName ?? "this command"
        if let ranks = launchedRanks(), ranks > 1, !(command is DistributedCommand), name != "help" {
            throw ValidationError("selflabel \(name) does not run across MPI ranks (launched as \(ranks)); "
                + "run it without mpirun/srun, or with one rank")
        }
    }

    /// Runs `body` as this rank's part of the job. In a single process it is just `body`. Across ranks an
    /// error ends the whole job: the rank prints it as one line naming itself and calls `MPI_Abort`, so no
    /// rank waits forever in a collective; a rank that stopped because another failed
    /// (`DistributedError.peerFailed`) waits for that rank's abort without a message of its own.
    static func run(_ world: any Communicator, _ body: () throws -> Void) throws {
        guard world.size > 1 else { return try body() }
        do {
            try body()
        } catch DistributedError.peerFailed {
            while true { sleep(60) }  // ended by the failing rank's MPI_Abort
        } catch {
            let message = "Error: rank \(world.rank) of \(world.size): \(SelfLabelCommand.message(for: error))\n"
            FileHandle.standardError.write(Data(message.utf8))
            MPIContext.abort(code: 1)
        }
    }
}
