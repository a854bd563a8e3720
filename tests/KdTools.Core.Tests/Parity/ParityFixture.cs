using System.Diagnostics;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

/// <summary>
/// Exports every architecture and training case of <see cref="ParityConfiguration.Current"/>, runs the PyTorch side
/// once over all of them, and keeps its rows for the tests. <c>KDTOOLS_PARITY_REPORT</c> names a file to copy the
/// table to (what <c>./build.sh parity</c> prints); <c>KDTOOLS_PARITY_KEEP=1</c> keeps the exported folder.
/// </summary>
public sealed class ParityFixture : IDisposable
{
    public ParityFixture()
    {
        Configuration = ParityConfiguration.Current;
        Folder = Path.Combine(Path.GetTempPath(), "kdtools-parity", Guid.NewGuid().ToString("N"));
        var clock = Stopwatch.StartNew();
        // The networks are tiny: one thread is faster than two fighting over a shared machine.
        int threads = get_num_threads();
        set_num_threads(1);
        foreach (var dtype in Configuration.ModelDtypes)
            foreach (var architecture in Configuration.Architectures)
                ModelParityExport.Write(ModelFolder(architecture, dtype), architecture, dtype, Configuration.ModelImageSize, Configuration.ModelBatch);
        foreach (var dtype in Configuration.TrainingDtypes)
            foreach (var parityCase in Configuration.Training)
                TrainingParityExport.Write(Path.Combine(Folder, "training", $"{parityCase.Name}-{ParityConfiguration.DtypeName(dtype)}"),
                    parityCase, dtype, Configuration);
        set_num_threads(threads);
        var exported = clock.Elapsed;
        (Rows, Table) = PyTorchParity.Compare(Folder);
        Summary = $"KdTools export {exported.TotalSeconds:F1} s, PyTorch comparison {(clock.Elapsed - exported).TotalSeconds:F1} s";
        if (Environment.GetEnvironmentVariable("KDTOOLS_PARITY_REPORT") is { Length: > 0 } report)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(report))!);
            File.WriteAllText(report, Table + Summary + Environment.NewLine);
        }
    }

    public ParityConfiguration Configuration { get; }
    public string Folder { get; }
    public IReadOnlyList<ParityRow> Rows { get; }
    public string Table { get; }
    public string Summary { get; }

    public string ModelFolder(string architecture, ScalarType dtype) =>
        Path.Combine(Folder, "models", $"{architecture}-{ParityConfiguration.DtypeName(dtype)}");

    public ParityRow Row(string kind, string name, string dtype) =>
        Rows.SingleOrDefault(r => r.Kind == kind && r.Name == name && r.Dtype == dtype)
        ?? throw new InvalidOperationException($"the PyTorch side reported no {kind} row for {name} {dtype}");

    public void Dispose()
    {
        // KDTOOLS_PARITY_KEEP=1 leaves the export for a look at a failure (compare.py runs on it again).
        if (Directory.Exists(Folder) && Environment.GetEnvironmentVariable("KDTOOLS_PARITY_KEEP") != "1") Directory.Delete(Folder, recursive: true);
    }
}
