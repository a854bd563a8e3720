using KdTools.Fuzz;
using SharpFuzz;

// The fuzzing driver (docs/fuzzing.md):
//   list                                  the targets, with the assemblies a campaign instruments
//   seeds <corpus-root>                   writes each target's seeds to <corpus-root>/<target>/
//   run <target>                          one input on standard input, or AFL++'s persistent loop under afl-fuzz
//   replay <target> <file|folder>...      checks the contract on every file; exit 1 on a violation
//   mutate <target> <seconds> <seed> <folder>...  the non-AFL mutation loop over the folders' files
if (args.Length == 0) return Usage();
switch (args[0])
{
    case "list":
        foreach (var target in FuzzTargets.All)
            Console.WriteLine($"{target.Name}\t{string.Join(",", target.Instrument.Prepend("KdTools.Core.dll"))}\t{target.Description}");
        return 0;

    case "seeds" when args.Length == 2:
        foreach (var target in FuzzTargets.All)
        {
            var folder = Path.Combine(args[1], target.Name);
            Directory.CreateDirectory(folder);
            foreach (var (name, bytes) in target.Seeds()) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
        return 0;

    case "run" when args.Length == 2:
    {
        var target = FuzzTargets.Get(args[1]);
        var scratch = ScratchRoot();
        // With KDTOOLS_FUZZ_MEMLOG set (./build.sh fuzz sets it), the process's resident memory is written next to it.
        var memory = Environment.GetEnvironmentVariable("KDTOOLS_FUZZ_MEMLOG") is { Length: > 0 } log ? new MemoryLog(log) : null;
        // Under afl-fuzz this loops in one process (persistent mode); an escaped exception is reported as a crash.
        Fuzzer.Run(stream =>
        {
            var input = new MemoryStream();
            stream.CopyTo(input);
            var bytes = input.ToArray();
            try
            {
                FuzzContract.Check(target, bytes, scratch);
            }
            finally
            {
                memory?.After(bytes.Length);
            }
        });
        return 0;
    }

    case "replay" when args.Length >= 3:
    {
        var target = FuzzTargets.Get(args[1]);
        var scratch = ScratchRoot();
        int violations = 0;
        foreach (var file in Files(args[2..]))
        {
            try
            {
                var outcome = FuzzContract.CheckWithin(target, File.ReadAllBytes(file), scratch, TimeSpan.FromSeconds(10));
                Console.WriteLine($"{Path.GetFileName(file)}\t{(outcome.Accepted ? "read" : outcome.ErrorId)}\t{outcome.Elapsed.TotalMilliseconds:F0} ms");
            }
            catch (ContractViolation violation)
            {
                violations++;
                Console.WriteLine($"{Path.GetFileName(file)}\tVIOLATION\t{violation.Message}\n{violation.InnerException}");
            }
        }
        return violations == 0 ? 0 : 1;
    }

    case "mutate" when args.Length >= 5:
    {
        var target = FuzzTargets.Get(args[1]);
        var corpus = Files(args[4..]).Select(File.ReadAllBytes).ToList();
        var (executions, failing, violation) = Mutator.Run(target, corpus, TimeSpan.FromSeconds(double.Parse(args[2])), int.Parse(args[3]), ScratchRoot(), TimeSpan.FromSeconds(10));
        Console.WriteLine($"{target.Name}: {executions} executions");
        if (violation is null) return 0;
        var saved = Path.Combine(Path.GetTempPath(), $"kdfuzz-{target.Name}-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(saved, failing!);
        Console.WriteLine($"VIOLATION (input saved to {saved}): {violation.Message}\n{violation.InnerException}");
        return 1;
    }

    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: KdTools.Fuzz list | seeds <corpus-root> | run <target> | replay <target> <file|folder>... | " +
                            "mutate <target> <seconds> <seed> <folder>...");
    return 2;
}

static IEnumerable<string> Files(IEnumerable<string> paths) =>
    paths.SelectMany<string, string>(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : File.Exists(p) ? [p] : []);

// Each process lays its inputs out in its own folder, in memory where the system has one (/dev/shm).
static string ScratchRoot()
{
    var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
    var folder = Path.Combine(root, $"kdtools-fuzz-{Environment.ProcessId}");
    Directory.CreateDirectory(folder);
    AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    };
    return folder;
}
