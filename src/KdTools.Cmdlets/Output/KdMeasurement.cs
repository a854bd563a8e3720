namespace KdTools;

/// <summary>
/// A model measured on a test split: accuracy, loss, agreement with the teacher, size and speed. One row per exit
/// (a plain network has the single exit "final"; multi-exit models add their exits and "ensemble").
/// </summary>
public sealed class KdMeasurement
{
    public string Model { get; init; } = "";
    public string Role { get; init; } = "";
    public string Method { get; init; } = "";
    public string Teacher { get; init; } = "";
    public string Exit { get; init; } = "";
    public string Dataset { get; init; } = "";
    public int Count { get; init; }
    public double Top1 { get; init; }
    public double Top5 { get; init; }
    public double Loss { get; init; }

    /// <summary>Fraction of test images where student and teacher agree on the top-1 class (NaN without a teacher).</summary>
    public double TeacherAgreement { get; init; }

    public long Parameters { get; init; }

    /// <summary>What ran the model, and so what LatencyMs and ImagesPerSecond time: TorchSharp or OnnxRuntime.</summary>
    public string Runtime { get; init; } = "TorchSharp";

    /// <summary>Latency: median milliseconds of one forward pass of a single image, after a warm-up (NaN with -NoTiming).</summary>
    public double LatencyMs { get; init; }

    /// <summary>Throughput: images per second of forward passes of Measure-Student's -BatchSize images (the batch size
    /// divided by the median time of one batched pass), measured alternately with the latency so both see the same
    /// machine load (NaN with -NoTiming).</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>From the run that produced the model, when measured from Invoke-Distillation's output.</summary>
    public double BestTop1 { get; init; } = double.NaN;

    public int BestEpoch { get; init; }
    public int Epochs { get; init; }
    public string Options { get; init; } = "";

    public override string ToString() => $"{Model} [{Exit}] top-1 {Top1:P2}, top-5 {Top5:P2}, {LatencyMs:F2} ms/image";
}
