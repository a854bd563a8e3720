using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>One distillation run replayed in PyTorch: a method with the options that keep it short.</summary>
/// <param name="Method">The registered method.</param>
/// <param name="Options">Option values (pre-stages shortened to one epoch, small heads, the variant's options).</param>
/// <param name="Nesterov">Train with Nesterov momentum.</param>
/// <param name="Variant">What distinguishes this case from the method's default one (its row is <c>Method+Variant</c>).</param>
/// <param name="Teacher">The teacher architecture; null = the configuration's.</param>
/// <param name="TeacherNormalization">Statistics the teacher was trained with, when they are not the dataset's.</param>
public sealed record TrainingCase(string Method, IReadOnlyDictionary<string, object?> Options, bool Nesterov = false,
    string? Variant = null, string? Teacher = null, InputNormalization? TeacherNormalization = null)
{
    public string Name => Variant is null ? Method : $"{Method}+{Variant}";
}

/// <summary>
/// What the parity tests compare with PyTorch. The small configuration runs in every <c>./build.sh test</c>; the full
/// one, every registered architecture and method (<c>KDTOOLS_PARITY=full</c>, what <c>./build.sh parity</c> sets).
/// </summary>
public sealed record ParityConfiguration
{
    /// <summary>Methods whose PyTorch replay needs other settings than their defaults; every other method runs as it is.</summary>
    private static readonly Dictionary<string, Dictionary<string, object?>> ShortOptions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FitNet"] = new() { ["HintEpochs"] = 1 },
        ["AB"] = new() { ["InitEpochs"] = 1 },
        ["FT"] = new() { ["ParaphraserEpochs"] = 1 },
        ["FSP"] = new() { ["InitEpochs"] = 1 },
        ["MHKD"] = new() { ["HeadEpochs"] = 1, ["HeadWidth"] = 16 },
        ["TOFD"] = new() { ["HeadEpochs"] = 1 },
        // A warm-up of 480 of mdistiller's 240 epochs spans two epochs of the one-epoch run: its factor (1/2) is checked.
        ["DKD"] = new() { ["WarmupEpochs"] = 480 },
        ["ReviewKD"] = new() { ["WarmupEpochs"] = 480 },
    };

    /// <summary>
    /// A teacher of the student's widths (resnet14 for resnet8) for the methods that compare equal channel counts, and
    /// for AB's identity connectors, which the references use where student and teacher stage shapes match.
    /// </summary>
    private const string SameWidthTeacher = "resnet14";

    private static readonly Dictionary<string, string> Teachers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FSP"] = SameWidthTeacher,
        ["KDSVD"] = SameWidthTeacher,
    };

    /// <summary>The cases beyond each method's default: its variants and the options that change its modules or formula.</summary>
    private static IEnumerable<TrainingCase> Variants() =>
    [
        Case("KD", nesterov: true, variant: "nesterov"),
        Case("KD", variant: "LS", options: new() { ["Preset"] = "LS" }),
        // The teacher sees the student's augmented images normalised with its own statistics.
        Case("KD", variant: "normalisation") with { TeacherNormalization = new([0.45f, 0.5f, 0.55f], [0.2f, 0.25f, 0.3f]) },
        Case("DKD", variant: "LS", options: new() { ["Preset"] = "LS" }),
        Case("DIST", variant: "LS", options: new() { ["LogitStandardization"] = true }),
        Case("DIH", variant: "LS", options: new() { ["LogitStandardization"] = true }),
        Case("FT", variant: "official", options: new() { ["Variant"] = "official" }),
        Case("AB", variant: "identity", teacher: SameWidthTeacher),
        Case("AB", variant: "learned", teacher: SameWidthTeacher, options: new() { ["LearnedConnectors"] = true }),
        Case("CC", variant: "gaussian", options: new() { ["Kernel"] = "gaussian", ["Beta"] = 20.0 }),
        Case("CRD", variant: "relax", options: new() { ["Sampling"] = "Relax" }),
        Case("CRD", variant: "uniform", options: new() { ["Sampling"] = "Uniform" }),
        Case("KDSVD", variant: "width", teacher: "resnet8x4", options: new() { ["Layout"] = "Width" }),
    ];

    /// <summary>TAKD is two KD runs (teacher → assistant → student); KD's replay covers each step of both.</summary>
    private static readonly HashSet<string> Protocols = new(StringComparer.OrdinalIgnoreCase) { "TAKD" };

    public required IReadOnlyList<string> Architectures { get; init; }
    public required IReadOnlyList<ScalarType> ModelDtypes { get; init; }
    public int ModelImageSize { get; init; } = 32;
    public int ModelBatch { get; init; } = 4;

    public required IReadOnlyList<TrainingCase> Training { get; init; }
    public required IReadOnlyList<ScalarType> TrainingDtypes { get; init; }
    public string Student { get; init; } = "resnet8";

    /// <summary>Wider than the student at every stage, so regressors and connectors change the channel count.</summary>
    public string Teacher { get; init; } = "resnet8x4";

    public int TrainingImageSize { get; init; } = 16;
    public int TrainingBatch { get; init; } = 8;

    /// <summary>Steps per epoch; every stage, pre-stages included, runs one epoch.</summary>
    public int StepsPerEpoch { get; init; } = 3;

    public static ParityConfiguration Small { get; } = new()
    {
        Architectures = ["resnet8", "resnet18", "vgg8", "wrn_16_1", "MobileNetV2"],
        ModelDtypes = [ScalarType.Float64],
        ModelImageSize = 16,
        // A pre-stage of each kind (hint, paraphraser), both FT variants, a logit method with a warm-up, random draws,
        // BN-derived margins.
        Training = AllCases().Where(c => new[] { "KD+nesterov", "DKD", "FitNet", "AT", "FT", "FT+official", "CRD", "OFD" }.Contains(c.Name)).ToList(),
        TrainingDtypes = [ScalarType.Float64],
        StepsPerEpoch = 2,
    };

    public static ParityConfiguration Full { get; } = new()
    {
        // The segmentation networks are checked against their PyTorch definitions by SegmentationModelTests.
        Architectures = ArchitectureRegistry.All.Where(a => a.Task == PredictionTask.Classification).Select(a => a.Name).ToList(),
        ModelDtypes = [ScalarType.Float64, ScalarType.Float32],
        Training = AllCases(),
        TrainingDtypes = [ScalarType.Float64, ScalarType.Float32],
    };

    /// <summary>
    /// The full configuration when <c>KDTOOLS_PARITY=full</c>, else the small one; <c>KDTOOLS_PARITY_ONLY</c> (names,
    /// comma-separated) keeps only those architectures and methods, to check a new one quickly.
    /// </summary>
    public static ParityConfiguration Current { get; } = Select(
        string.Equals(Environment.GetEnvironmentVariable("KDTOOLS_PARITY"), "full", StringComparison.OrdinalIgnoreCase) ? Full : Small,
        Environment.GetEnvironmentVariable("KDTOOLS_PARITY_ONLY"));

    public static string DtypeName(ScalarType dtype) => dtype == ScalarType.Float64 ? "float64" : "float32";

    private static ParityConfiguration Select(ParityConfiguration configuration, string? only)
    {
        if (string.IsNullOrWhiteSpace(only)) return configuration;
        var names = only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return configuration with
        {
            Architectures = configuration.Architectures.Where(names.Contains).ToList(),
            Training = configuration.Training.Where(c => names.Contains(c.Method) || names.Contains(c.Name)).ToList(),
        };
    }

    /// <summary>
    /// Every classification method but the protocols with its defaults, then the variants. The segmentation methods
    /// (PixelKD, CWD, SKD) are not replayed: their terms are checked against golden values and the segmentation networks
    /// against their PyTorch definitions.
    /// </summary>
    private static List<TrainingCase> AllCases() =>
        MethodRegistry.All.Where(m => !Protocols.Contains(m.Name) && m.Tasks.Contains(PredictionTask.Classification))
            .Select(m => Case(m.Name)).Concat(Variants()).ToList();

    private static TrainingCase Case(string method, bool nesterov = false, string? variant = null, string? teacher = null,
        Dictionary<string, object?>? options = null)
    {
        var merged = new Dictionary<string, object?>(ShortOptions.GetValueOrDefault(method) ?? [], StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in options ?? []) merged[name] = value;
        return new(method, merged, nesterov, variant, teacher ?? Teachers.GetValueOrDefault(method));
    }
}
