using System.Globalization;

namespace KdTools.Bench;

/// <summary>Command line of the benchmark; <c>--quick</c> lowers every iteration count to a smoke check.</summary>
internal sealed record BenchOptions(
    int Warmup, int Iterations, int MethodWarmup, int MethodIterations, int Threads, int BatchSize, int Classes,
    IReadOnlyList<string>? Methods, bool SkipPyTorch, IReadOnlySet<string> Parts, int StreamImages = 5000, int SweepImages = 1024,
    IReadOnlyList<string>? Students = null)
{
    /// <summary>The benchmark's parts, in the order they run; <c>--parts</c> picks some.</summary>
    public static readonly string[] AllParts =
        ["end-to-end", "augmentation", "pairs", "methods", "head", "segmentation", "students", "streaming", "sweep", "onnx"];

    /// <summary>
    /// What <c>./build.sh bench</c> runs without <c>--parts</c>: the comparisons against PyTorch, at every thread count
    /// (about 8 minutes on a quiet 2-core machine); <c>--parts all</c> adds the KdTools-only parts (once, at the largest count).
    /// </summary>
    public static readonly string[] DefaultParts = ["end-to-end", "pairs", "methods"];

    /// <summary>The parts measured at each thread count of <see cref="ThreadCounts"/>, side by side with PyTorch.</summary>
    public static readonly string[] PerThreadParts = ["end-to-end", "pairs", "methods", "head", "segmentation", "students"];

    /// <summary>
    /// The intra-op thread counts to measure (<c>--threads 1,2,N</c>, N = every core; duplicates dropped), each side
    /// by side with PyTorch at the same count. <see cref="Threads"/> is the one being measured.
    /// </summary>
    public IReadOnlyList<int> ThreadCounts { get; init; } = [Threads];

    /// <summary>
    /// How many times each thread count alternates KdTools and PyTorch (A B A B …); ratios are the median of the
    /// rounds' ratios, so slow minutes on a shared machine hit both sides alike.
    /// </summary>
    public int Rounds { get; init; } = 1;

    /// <summary>Also compare with Debian 12's PyTorch 1.13 (<c>--torch-1.13</c>), not only Debian 13's 2.6.</summary>
    public bool WithTorch113 { get; init; }

    /// <summary>
    /// A checkout of RepDistiller (<c>--repdistiller DIR</c>, the folder holding <c>models/</c>): the students part then
    /// times its own model definitions on the PyTorch side; without it, the parity tests' definitions of the same networks.
    /// </summary>
    public string? RepDistiller { get; init; }

    /// <summary>Parses <c>1,2,N</c>: N (or n) is <see cref="Environment.ProcessorCount"/>.</summary>
    public static IReadOnlyList<int> ParseThreadCounts(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t is "N" or "n" ? Environment.ProcessorCount : int.Parse(t, CultureInfo.InvariantCulture))
            .Distinct().ToList();

    public bool Runs(string part) => Parts.Contains(part);

    public const string Usage =
        "usage: ./build.sh bench [--quick] [--no-pytorch] [--iters N] [--warmup N] [--method-iters N] [--method-warmup N] " +
        "[--methods KD,RKD,...] [--students resnet8,ShuffleV2,...] [--repdistiller DIR] [--threads 1,2,N] [--rounds N] [--torch-1.13] [--batch N] [--classes N] [--stream-images N] [--sweep-images N] " +
        "[--parts all|end-to-end,augmentation,pairs,methods,head,segmentation,students,streaming,sweep,onnx]";

    private static readonly string[] Flags = ["--quick", "--no-pytorch", "--torch-1.13"];
    private static readonly string[] Valued =
        ["--iters", "--warmup", "--method-iters", "--method-warmup", "--methods", "--threads", "--batch", "--classes",
         "--stream-images", "--sweep-images", "--parts", "--rounds", "--students", "--repdistiller"];

    public static BenchOptions Parse(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (Valued.Contains(args[i]) && i + 1 < args.Length) i++;
            else if (!Flags.Contains(args[i])) throw new ArgumentException($"unknown or incomplete argument '{args[i]}'\n{Usage}");
        }
        bool quick = args.Contains("--quick");
        int Get(string name, int normal, int smoke)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : quick ? smoke : normal;
        }
        int methodsAt = Array.IndexOf(args, "--methods");
        var methods = methodsAt >= 0 ? args[methodsAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries) : null;
        int partsAt = Array.IndexOf(args, "--parts");
        var parts = partsAt < 0 ? DefaultParts
            : args[partsAt + 1] == "all" ? AllParts : args[partsAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries);
        // --students adds the students part to whatever parts run.
        int studentsAt = Array.IndexOf(args, "--students");
        var students = studentsAt >= 0 ? args[studentsAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries) : null;
        if (students is not null) parts = parts.Append("students").Distinct().ToArray();
        int repDistillerAt = Array.IndexOf(args, "--repdistiller");
        int threadsAt = Array.IndexOf(args, "--threads");
        var threadCounts = ParseThreadCounts(threadsAt >= 0 ? args[threadsAt + 1] : quick ? "2" : "1,2,N");
        if (parts.Except(AllParts).FirstOrDefault() is { } unknown)
            throw new ArgumentException($"unknown part '{unknown}'; parts: {string.Join(",", AllParts)}\n{Usage}");
        var options = new BenchOptions(
            Warmup: Get("--warmup", 3, 1), Iterations: Get("--iters", 15, 3),
            MethodWarmup: Get("--method-warmup", 2, 1), MethodIterations: Get("--method-iters", 8, 2),
            Threads: threadCounts.Count > 0 ? threadCounts.Max() : 0, BatchSize: Get("--batch", 64, 64), Classes: Get("--classes", 100, 100),
            methods, SkipPyTorch: args.Contains("--no-pytorch"), parts.ToHashSet(),
            StreamImages: Get("--stream-images", 5000, 1000), SweepImages: Get("--sweep-images", 1024, 256), students)
        {
            RepDistiller = repDistillerAt >= 0 ? Path.GetFullPath(args[repDistillerAt + 1]) : null,
            ThreadCounts = threadCounts, Rounds = Get("--rounds", 1, 1), WithTorch113 = args.Contains("--torch-1.13"),
        };
        // RKD and PKT need two samples, and the feature probe takes two.
        if (options.Warmup < 0 || options.MethodWarmup < 0 || options.Iterations < 1 || options.MethodIterations < 1 ||
            options.ThreadCounts.Count == 0 || options.ThreadCounts.Any(t => t < 1) || options.Rounds < 1 || options.BatchSize < 2 || options.Classes < 2)
            throw new ArgumentException($"warm-ups must be ≥ 0, iterations and threads ≥ 1, batch and classes ≥ 2\n{Usage}");
        return options;
    }
}
