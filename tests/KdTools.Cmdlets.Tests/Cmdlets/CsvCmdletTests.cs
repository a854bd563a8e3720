using System.Globalization;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>
/// Runs and measurements as CSV, the way a sweep uses them, through pwsh's own Export-Csv and Import-Csv (the hosted
/// engine is Microsoft.PowerShell.SDK, so these are the cmdlets a user's session runs).
/// </summary>
[Collection("module")]
public sealed class CsvCmdletTests(ModuleFixture fixture) : IDisposable
{
    private const string Setup = """
        $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 -Seed 1
        $teacher = New-Teacher -Architecture resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2

        """;

    /// <summary>KdRun's public, non-hidden properties in declaration order: the sweep CSV's schema.</summary>
    private static readonly string[] RunColumns =
    [
        "Method", "Student", "Teacher", "Dataset", "Status", "Recipe", "Epochs", "BatchSize", "LearningRate", "Momentum",
        "Nesterov", "WeightDecay", "Schedule", "Augmentation", "Seed", "Top1", "Top5", "BestTop1", "BestTop5", "MeanIoU", "BestMeanIoU", "BestEpoch",
        "ExitTop1", "TrainLoss", "LossTerms", "Options", "PreStages", "StudentParameters", "TeacherParameters", "ExtraParameters",
        "Seconds", "Checkpoint",
    ];

    private static readonly string[] MeasurementColumns =
    [
        "Model", "Role", "Method", "Teacher", "Exit", "Dataset", "Count", "Top1", "Top5", "Loss", "TeacherAgreement",
        "Parameters", "Runtime", "LatencyMs", "ImagesPerSecond", "BestTop1", "BestEpoch", "Epochs", "Options",
    ];

    private readonly ModuleSession _session = fixture.Session;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Runs_and_measurements_export_one_flat_row_per_object()
    {
        var result = _session.Run(Setup + $$"""
            $runs = 'KD', 'CE' | ForEach-Object {
                $teacher | Invoke-Distillation -Student resnet8 -Method $_ -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
            }
            $runs | Export-Csv '{{_folder.PathOf("runs.csv")}}'
            $runs | Measure-Student -Dataset $data -NoTiming | Export-Csv '{{_folder.PathOf("measurements.csv")}}'
            """);
        result.AssertSucceeded();

        var runs = ReadCsv("runs.csv", RunColumns);
        Assert.Equal(["KD", "CE"], runs.Select(r => r["Method"]));
        Assert.All(runs, r => Assert.Equal("resnet8", r["Student"]));
        Assert.All(runs, r => Assert.Equal("Completed", r["Status"]));
        Assert.All(runs, r => Assert.Equal("1", r["Epochs"]));
        Assert.All(runs, r => Assert.InRange(double.Parse(r["Top1"], CultureInfo.InvariantCulture), 0.0, 1.0));
        Assert.Equal("Temperature=4;Alpha=0.9;LogitStandardization=false", runs[0]["Options"]);
        Assert.Equal("ce", runs[1]["LossTerms"].Split('=')[0]);

        var measurements = ReadCsv("measurements.csv", MeasurementColumns);
        Assert.Equal(["KD", "CE"], measurements.Select(m => m["Method"]));
        Assert.All(measurements, m => Assert.Equal("final", m["Exit"]));
        Assert.All(measurements, m => Assert.Equal("64", m["Count"]));
        Assert.All(measurements, m => Assert.Equal("NaN", m["LatencyMs"]));
        Assert.All(measurements, m => Assert.InRange(double.Parse(m["TeacherAgreement"], CultureInfo.InvariantCulture), 0.0, 1.0));
    }

    [Fact]
    public void A_run_and_its_measurement_come_back_from_Import_Csv_with_every_column_and_value()
    {
        var runs = _folder.PathOf("run.csv");
        var rows = _folder.PathOf("measurement.csv");
        var exported = _session.Run(Setup + $"""
            $run = $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
            $row = $run | Measure-Student -Dataset $data
            $run | Export-Csv '{runs}'
            $row | Export-Csv '{rows}'
            $run, $row
            """);
        exported.AssertSucceeded();
        var imported = _session.Run($"Import-Csv '{runs}'; Import-Csv '{rows}'");
        imported.AssertSucceeded();

        Assert.Equal(["KdTools.KdRun", "KdTools.KdMeasurement"], exported.Output.Select(o => o.TypeNames[0]));
        Assert.Equal(2, imported.Output.Count);
        foreach (var (original, back) in exported.Output.Zip(imported.Output))
        {
            // Every column the object shows comes back, in order, with the text of its value: nothing is flattened
            // into a type name, nothing hidden leaks out.
            Assert.Equal(original.Properties.Select(p => p.Name), back.Properties.Select(p => p.Name));
            foreach (var property in original.Properties)
                Assert.Equal(property.Value?.ToString() ?? "", (string)back.Prop(property.Name)!);
        }
        Assert.Equal(RunColumns, imported.Output[0].Properties.Select(p => p.Name));
        Assert.Equal(MeasurementColumns, imported.Output[1].Properties.Select(p => p.Name));
        var latency = double.Parse((string)imported.Output[1].Prop("LatencyMs")!, CultureInfo.InvariantCulture);
        Assert.True(latency > 0, $"LatencyMs {latency}");
    }

    [Fact]
    public void Sweep_rows_from_Import_Csv_drive_Invoke_Distillation_through_its_plan_parameter_set()
    {
        _folder.Write("plan.csv", "Method,Student,Epochs\nKD,resnet8,1\nCE,resnet14,2\n");
        var result = _session.Run(Setup + $"""
            Import-Csv '{_folder.PathOf("plan.csv")}' |
                Invoke-Distillation -Teacher $teacher -Dataset $data -BatchSize 32 -Threads 2 |
                Export-Csv '{_folder.PathOf("runs.csv")}'
            """);
        result.AssertSucceeded();

        var runs = ReadCsv("runs.csv", RunColumns);
        Assert.Equal(["KD", "CE"], runs.Select(r => r["Method"]));
        Assert.Equal(["resnet8", "resnet14"], runs.Select(r => r["Student"]));
        Assert.Equal(["1", "2"], runs.Select(r => r["Epochs"]));
        // CE trains without a teacher, so its run names none.
        Assert.Equal(["resnet8", ""], runs.Select(r => r["Teacher"]));
        Assert.All(runs, r => Assert.Equal("32", r["BatchSize"]));
    }

    /// <summary>
    /// Reads a file Export-Csv wrote: the header must be exactly <paramref name="columns"/>, and every row one line of
    /// quoted scalar fields, none of them an object's type name.
    /// </summary>
    private List<Dictionary<string, string>> ReadCsv(string name, string[] columns)
    {
        var lines = _folder.Read(name).Split(Environment.NewLine);
        Assert.Equal("", lines[^1]);
        Assert.Equal(string.Join(",", columns.Select(c => $"\"{c}\"")), lines[0]);
        var rows = new List<Dictionary<string, string>>();
        foreach (var line in lines[1..^1])
        {
            Assert.StartsWith("\"", line);
            Assert.EndsWith("\"", line);
            var fields = line[1..^1].Split("\",\"");
            Assert.Equal(columns.Length, fields.Length);
            Assert.DoesNotContain(fields, f => f.StartsWith("KdTools.", StringComparison.Ordinal) || f.StartsWith("System.", StringComparison.Ordinal));
            rows.Add(columns.Zip(fields).ToDictionary(p => p.First, p => p.Second));
        }
        return rows;
    }
}
