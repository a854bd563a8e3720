namespace KdTools.Core;

/// <summary>What kind of failure a <see cref="KdException"/> is; the PowerShell layer maps it to an ErrorCategory.</summary>
public enum KdErrorKind
{
    InvalidArgument,
    ObjectNotFound,
    InvalidData,
    InvalidOperation,
    ResourceUnavailable,
    NotInstalled,
    OperationStopped,

    /// <summary>A file could not be written (a file where a folder should be, a full disk).</summary>
    WriteError,

    /// <summary>The operating system refused access (a read-only folder or file).</summary>
    PermissionDenied,
}

/// <summary>
/// A failure with a stable, dot-separated id (for example <c>KdTools.Architecture.Unknown</c>) and a message that says
/// how to fix it. Tests and scripts match on <see cref="ErrorId"/>, never on the message text.
/// </summary>
public sealed class KdException : Exception
{
    public KdException(string errorId, KdErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public KdErrorKind Kind { get; }

    /// <summary>The offending value (a name, a path, an option key), when there is one.</summary>
    public object? Target { get; }
}

/// <summary>The error ids KdTools raises. One place, so ids stay stable and unique.</summary>
public static class KdErrorIds
{
    public const string ArchitectureUnknown = "KdTools.Architecture.Unknown";
    public const string MethodUnknown = "KdTools.Method.Unknown";
    public const string MethodOptionUnknown = "KdTools.Method.OptionUnknown";
    public const string MethodOptionInvalid = "KdTools.Method.OptionInvalid";
    public const string MethodNeedsTeacher = "KdTools.Method.TeacherRequired";
    public const string MethodNeedsTeacherHeads = "KdTools.Method.TeacherHeadsRequired";

    /// <summary>A method asked to train a task it does not define (a classification method on a segmentation dataset).</summary>
    public const string MethodTaskUnsupported = "KdTools.Method.TaskUnsupported";
    public const string FeatureMissing = "KdTools.Model.FeatureMissing";
    public const string FeatureShapeMismatch = "KdTools.Model.FeatureShapeMismatch";
    public const string ClassCountMismatch = "KdTools.Model.ClassCountMismatch";
    public const string InputShapeMismatch = "KdTools.Model.InputShapeMismatch";

    /// <summary>A network and a dataset (or two networks) of different prediction tasks: a classifier on label maps.</summary>
    public const string TaskMismatch = "KdTools.Model.TaskMismatch";
    public const string DatasetPathMissing = "KdTools.Dataset.PathNotFound";
    public const string DatasetFileMissing = "KdTools.Dataset.FileNotFound";
    public const string DatasetFileCorrupt = "KdTools.Dataset.FileCorrupt";
    public const string DatasetFormatUnknown = "KdTools.Dataset.FormatUnknown";
    public const string DatasetInvalid = "KdTools.Dataset.Invalid";
    public const string DatasetLabelMismatch = "KdTools.Dataset.LabelMismatch";
    public const string DatasetStreamingUnsupported = "KdTools.Dataset.StreamingUnsupported";
    public const string DatasetExists = "KdTools.Dataset.Exists";
    public const string DatasetWriteFailed = "KdTools.Dataset.WriteFailed";

    /// <summary>A downloaded or given archive whose checksum is not the expected one (a downloaded file is removed).</summary>
    public const string DatasetChecksumMismatch = "KdTools.Dataset.ChecksumMismatch";

    /// <summary>The download source cannot be reached or refuses the file (network, DNS, HTTP status, missing local path).</summary>
    public const string DatasetSourceUnreachable = "KdTools.Dataset.SourceUnreachable";

    /// <summary>A download stopped before its end; the part is kept and the same command resumes it.</summary>
    public const string DatasetDownloadInterrupted = "KdTools.Dataset.DownloadInterrupted";

    /// <summary>The disk filled up (or has too little room) while downloading or extracting a dataset.</summary>
    public const string DatasetDiskFull = "KdTools.Dataset.DiskFull";

    /// <summary>An archive that is damaged, unsafe (links, absolute or climbing names, absurd sizes) or not the dataset's.</summary>
    public const string DatasetArchiveInvalid = "KdTools.Dataset.ArchiveInvalid";
    public const string CheckpointMissing = "KdTools.Checkpoint.NotFound";
    public const string CheckpointCorrupt = "KdTools.Checkpoint.Corrupt";
    public const string CheckpointMismatch = "KdTools.Checkpoint.Mismatch";
    public const string CheckpointExists = "KdTools.Checkpoint.Exists";
    public const string CheckpointWriteFailed = "KdTools.Checkpoint.WriteFailed";
    public const string CheckpointUnfinished = "KdTools.Checkpoint.Unfinished";
    public const string CheckpointArchitectureRequired = "KdTools.Checkpoint.ArchitectureRequired";
    public const string ModelArgumentInvalid = "KdTools.Model.ArgumentInvalid";
    public const string ModelNormalizationUnknown = "KdTools.Model.NormalizationUnknown";
    public const string ModelNormalizationInvalid = "KdTools.Model.NormalizationInvalid";
    public const string DatasetArgumentInvalid = "KdTools.Dataset.ArgumentInvalid";
    public const string PlotInputInvalid = "KdTools.Plot.InputInvalid";
    public const string PlotEmpty = "KdTools.Plot.Empty";
    public const string PlotExists = "KdTools.Plot.Exists";
    public const string PlotWriteFailed = "KdTools.Plot.WriteFailed";

    /// <summary>A predicted label map cannot be written (it would overwrite its own image, or the file system refused it).</summary>
    public const string PredictionWriteFailed = "KdTools.Prediction.WriteFailed";
    public const string TrainingSettingInvalid = "KdTools.Training.SettingInvalid";
    public const string RecipeUnknown = "KdTools.Recipe.Unknown";
    public const string TrainingDiverged = "KdTools.Training.Diverged";
    public const string TrainingStepFailed = "KdTools.Training.StepFailed";
    public const string DeviceUnavailable = "KdTools.Device.Unavailable";
    public const string SweepLedgerWriteFailed = "KdTools.Sweep.LedgerWriteFailed";
    public const string SweepLedgerUnreadable = "KdTools.Sweep.LedgerUnreadable";
    public const string ModelNotLocal = "KdTools.Model.NotLocal";
    public const string LossShapeMismatch = "KdTools.Loss.ShapeMismatch";

    /// <summary>A network cannot be written as ONNX (a layer or setting the exporter does not know, no known input size).</summary>
    public const string ExportUnsupported = "KdTools.Export.Unsupported";

    /// <summary>A model run by ONNX Runtime (an imported .onnx file) was asked to train, or to teach.</summary>
    public const string ModelInferenceOnly = "KdTools.Model.InferenceOnly";

    /// <summary>ONNX Runtime failed to run a loaded ONNX model on a batch (a model from elsewhere with a broken graph).</summary>
    public const string ModelRunFailed = "KdTools.Model.RunFailed";
}
