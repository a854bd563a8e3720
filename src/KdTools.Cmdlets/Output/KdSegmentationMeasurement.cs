namespace KdTools;

/// <summary>
/// A segmentation model measured on a test split (Measure-Student): mean IoU and pixel accuracy over all labelled test
/// pixels, per-class IoU, agreement with the teacher per pixel, size and speed. Its own set of columns, so a
/// segmentation sweep is one clean CSV.
/// </summary>
public sealed class KdSegmentationMeasurement
{
    public string Model { get; init; } = "";
    public string Role { get; init; } = "";
    public string Method { get; init; } = "";
    public string Teacher { get; init; } = "";
    public string Dataset { get; init; } = "";

    /// <summary>Test images measured.</summary>
    public int Count { get; init; }

    /// <summary>Labelled test pixels counted (ignored pixels, label 255, are not).</summary>
    public long Pixels { get; init; }

    /// <summary>Mean over the classes present of TP / (TP + FP + FN), from one confusion matrix over all test pixels.</summary>
    public double MeanIoU { get; init; }

    /// <summary>Fraction of labelled test pixels predicted right.</summary>
    public double PixelAccuracy { get; init; }

    /// <summary>Each class's IoU, "background=0.9123;red disc=0.4551" (classes absent from labels and predictions left out).</summary>
    public string ClassIoU { get; init; } = "";

    /// <summary>Mean per-pixel cross-entropy of the logits upsampled to the labels.</summary>
    public double Loss { get; init; }

    /// <summary>Fraction of labelled test pixels where student and teacher predict the same class (NaN without a teacher).</summary>
    public double TeacherAgreement { get; init; }

    public long Parameters { get; init; }

    /// <summary>What ran the model, and so what LatencyMs and ImagesPerSecond time: TorchSharp or OnnxRuntime.</summary>
    public string Runtime { get; init; } = "TorchSharp";

    /// <summary>Latency: median milliseconds of one forward pass of a single image, after a warm-up (NaN with -NoTiming).</summary>
    public double LatencyMs { get; init; }

    /// <summary>Throughput: images per second of forward passes of Measure-Student's -BatchSize images (NaN with -NoTiming).</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Main-stage epochs the model was trained for, when known.</summary>
    public int Epochs { get; init; }

    /// <summary>The method's options as used, from a run.</summary>
    public string Options { get; init; } = "";

    public override string ToString() => $"{Model}: mIoU {MeanIoU:P2}, pixel accuracy {PixelAccuracy:P2}, {LatencyMs:F2} ms/image";
}
