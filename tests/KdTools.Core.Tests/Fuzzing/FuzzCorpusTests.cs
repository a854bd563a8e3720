using KdTools.Fuzz;

namespace KdTools.Core.Tests.Fuzzing;

/// <summary>
/// The fuzz targets in CI (docs/fuzzing.md): every committed seed is read, every input that ever broke a reader
/// (tests/fuzz/regressions) is now refused with a KdTools error id, and a fixed number of mutations per target keep the
/// contract (a KdTools error or a result; managed memory within the target's budget; no input slower than the limit).
/// </summary>
public sealed class FuzzCorpusTests : IDisposable
{
    private static readonly TimeSpan InputLimit = TimeSpan.FromSeconds(20);
    // 0.2-4 s a target on the 2-core machine (state-dict, the slowest, about 11 s); a count, not a time, so every machine checks the same inputs.
    private const int MutationsPerTarget = 2000;

    private readonly string _scratch = Directory.CreateTempSubdirectory("kdfuzz-test").FullName;

    public static TheoryData<string> Targets => new(FuzzTargets.All.Select(t => t.Name));

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static string Folder(string kind, string target) => Path.Combine(FuzzTargets.RepositoryRoot(), "tests", "fuzz", kind, target);

    private static IReadOnlyList<string> Files(string kind, string target) =>
        Directory.Exists(Folder(kind, target)) ? Directory.GetFiles(Folder(kind, target)).Order(StringComparer.Ordinal).ToList() : [];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_seed_is_read(string name)
    {
        var target = FuzzTargets.Get(name);
        var seeds = Files("corpus", name);
        Assert.NotEmpty(seeds);
        foreach (var seed in seeds)
        {
            var outcome = FuzzContract.CheckWithin(target, File.ReadAllBytes(seed), _scratch, InputLimit);
            Assert.True(outcome.Accepted, $"seed {Path.GetFileName(seed)} of {name} was refused: {outcome.ErrorId}");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_regression_input_is_refused_with_an_error_id(string name)
    {
        var target = FuzzTargets.Get(name);
        foreach (var input in Files("regressions", name))
        {
            var outcome = FuzzContract.CheckWithin(target, File.ReadAllBytes(input), _scratch, InputLimit);
            Assert.False(outcome.Accepted, $"regression input {Path.GetFileName(input)} of {name} was read as valid");
            Assert.StartsWith("KdTools.", outcome.ErrorId);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Mutated_inputs_keep_the_contract(string name)
    {
        var target = FuzzTargets.Get(name);
        var corpus = Files("corpus", name).Concat(Files("regressions", name)).Select(File.ReadAllBytes).ToList();
        // A fixed seed and count per target: the same mutations on every run and every machine.
        var (executions, failing, violation) = Mutator.Run(target, corpus, MutationsPerTarget, StableSeed(name), _scratch, InputLimit);
        if (violation is not null)
        {
            var saved = Path.Combine(Path.GetTempPath(), $"kdfuzz-{name}-{Guid.NewGuid():N}.bin");
            File.WriteAllBytes(saved, failing!);
            Assert.Fail($"{violation.Message} (input saved to {saved}; add it to tests/fuzz/regressions/{name} with the fix)\n{violation.InnerException}");
        }
        Assert.Equal(MutationsPerTarget, executions);
    }

    [Fact]
    public void A_hang_is_reported_as_a_violation()
    {
        var target = new FuzzTarget { Name = "sleeper", Description = "", Run = _ => Thread.Sleep(2000), Seeds = () => [] };
        var violation = Assert.Throws<ContractViolation>(() => FuzzContract.CheckWithin(target, [1], _scratch, TimeSpan.FromMilliseconds(200)));
        Assert.Contains("hang", violation.Message);
    }

    [Fact]
    public void A_raw_exception_and_an_allocation_beyond_the_budget_are_violations()
    {
        var raw = new FuzzTarget { Name = "raw", Description = "", Run = _ => throw new IndexOutOfRangeException(), Seeds = () => [] };
        Assert.Contains("IndexOutOfRange", Assert.Throws<ContractViolation>(() => FuzzContract.Check(raw, [1], _scratch)).Message);
        var greedy = new FuzzTarget { Name = "greedy", Description = "", Run = _ => GC.KeepAlive(new byte[64 << 20]), Seeds = () => [] };
        Assert.Contains("budget", Assert.Throws<ContractViolation>(() => FuzzContract.Check(greedy, [1], _scratch)).Message);
        var refusing = new FuzzTarget
        {
            Name = "refusing", Description = "", Seeds = () => [],
            Run = _ => throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData, "bad"),
        };
        Assert.Equal(KdErrorIds.DatasetFileCorrupt, FuzzContract.Check(refusing, [1], _scratch).ErrorId);
    }

    private static int StableSeed(string name) => name.Aggregate(17, (hash, c) => hash * 31 + c);
}
