using System.Globalization;

namespace KdTools.Bench;

/// <summary>Command line of the benchmark; <c>--quick</c> lowers every iteration count to a smoke check.</summary>
internal sealed record BenchOptions(
    int Warmup, int Iterations, int MethodWarmup, int MethodIterations, int Threads, int BatchSize, int Classes,
    IReadOnlyList<string>? Methods, bool SkipPyTorch, IReadOnlySet<string> Parts, int StreamImages = 5000, int SweepImages = 1024)
{
    /// <summary>The benchmark's parts, in the order they run; <c>--parts</c> picks some.</summary>
    public static readonly string[] AllParts =
        ["end-to-end", "augmentation", "pairs", "methods", "head", "segmentation", "streaming", "sweep", "onnx"];

    public bool Runs(string part) => Parts.Contains(part);

    public const string Usage =
        "usage: ./build.sh bench [--quick] [--no-pytorch] [--iters N] [--warmup N] [--method-iters N] [--method-warmup N] " +
        "[--methods KD,RKD,...] [--threads N] [--batch N] [--classes N] [--stream-images N] [--sweep-images N] " +
        "[--parts end-to-end,augmentation,pairs,methods,head,segmentation,streaming,sweep,onnx]";

    private static readonly string[] Flags = ["--quick", "--no-pytorch"];
    private static readonly string[] Valued =
        ["--iters", "--warmup", "--method-iters", "--method-warmup", "--methods", "--threads", "--batch", "--classes",
         "--stream-images", "--sweep-images", "--parts"];

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
        var parts = partsAt >= 0 ? args[partsAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries) : AllParts;
        if (parts.Except(AllParts).FirstOrDefault() is { } unknown)
            throw new ArgumentException($"unknown part '{unknown}'; parts: {string.Join(",", AllParts)}\n{Usage}");
        var options = new BenchOptions(
            Warmup: Get("--warmup", 5, 1), Iterations: Get("--iters", 20, 3),
            MethodWarmup: Get("--method-warmup", 5, 1), MethodIterations: Get("--method-iters", 20, 2),
            Threads: Get("--threads", 2, 2), BatchSize: Get("--batch", 64, 64), Classes: Get("--classes", 100, 100),
            methods, SkipPyTorch: args.Contains("--no-pytorch"), parts.ToHashSet(),
            StreamImages: Get("--stream-images", 5000, 1000), SweepImages: Get("--sweep-images", 1024, 256));
        // RKD and PKT need two samples, and the feature probe takes two.
        if (options.Warmup < 0 || options.MethodWarmup < 0 || options.Iterations < 1 || options.MethodIterations < 1 ||
            options.Threads < 1 || options.BatchSize < 2 || options.Classes < 2)
            throw new ArgumentException($"warm-ups must be ≥ 0, iterations and threads ≥ 1, batch and classes ≥ 2\n{Usage}");
        return options;
    }
}
