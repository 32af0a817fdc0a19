// onsager-mpi: Onsager across processes. Run under mpirun, e.g.
//   mpirun -np 2 .build/release/onsager-mpi check      equivalence checks (exit status 1 on a failure)
//   mpirun -np 2 .build/release/onsager-mpi demo       a two-rank training run, step by step
//   mpirun -np 2 .build/release/onsager-mpi bench      1 vs 2 ranks, and the all-reduce bandwidth
//   mpirun -np 2 .build/release/onsager-mpi die-test   rank 1 dies; rank 0 must stop with an error
import Foundation
import Onsager
import OnsagerDistributed

let world: Communicator
do { world = try Communicator.world() } catch {
    FileHandle.standardError.write(Data("onsager-mpi: cannot start MPI: \(error)\n".utf8))
    exit(1)
}
let command = CommandLine.arguments.dropFirst().first ?? "check"
// Progress bars from several ranks would interleave on one terminal.
ProgressReporter.output = .silent

/// Prints on rank 0 only.
func say(_ text: String) {
    if world.rank == 0 { print(text); fflush(nil) }
}

switch command {
case "check":
    let failures = runChecks(world)
    say(failures == 0 ? "all checks passed on \(world.size) \(world.size == 1 ? "rank" : "ranks")" : "\(failures) check(s) FAILED")
    exit(failures == 0 ? 0 : 1)
case "demo":
    do { try runDemo(world) } catch { print("rank \(world.rank): \(error)"); world.abort() }
case "bench":
    do { try runBench(world) } catch { print("rank \(world.rank): \(error)"); world.abort() }
case "die-test":
    // Rank 1 exits in the middle of the job; rank 0 waits in an all-reduce with a 5 s timeout.
    if world.rank == 1 { FileHandle.standardError.write(Data("rank 1: exiting on purpose\n".utf8)); exit(3) }
    world.timeout = 5
    do {
        _ = try world.allReduce(1.0)
        print("rank 0: the all-reduce completed without rank 1 (unexpected)")
        exit(1)
    } catch {
        print("rank \(world.rank): \(error)")
        world.abort(2)
    }
default:
    say("usage: mpirun -np N onsager-mpi check|demo|bench|die-test")
    exit(2)
}
