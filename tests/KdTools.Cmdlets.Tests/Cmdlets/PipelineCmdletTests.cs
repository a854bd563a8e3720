using System.Management.Automation;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>The user's pipeline end to end, on a tiny synthetic dataset so it runs in seconds.</summary>
[Collection("module")]
public sealed class PipelineCmdletTests(ModuleFixture fixture)
{
    private const string Setup = """
        $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 -Seed 1
        $teacher = New-Teacher -Architecture resnet14 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2

        """;

    private readonly ModuleSession _session = fixture.Session;

    [Fact]
    public void Teacher_to_KD_to_measurement_emits_flat_typed_objects_with_progress_and_verbose()
    {
        var result = _session.Run(Setup + """
            $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $data -Epochs 2 -BatchSize 32 -Verbose |
                Measure-Student -Dataset $data -NoTiming | Where-Object Top1 -ge 0
            """);
        result.AssertSucceeded();
        var row = Assert.Single(result.Output);
        Assert.Equal("KdTools.KdMeasurement", row.TypeNames[0]);
        Assert.Equal("resnet8", row.Prop("Model"));
        Assert.Equal("KD", row.Prop("Method"));
        Assert.Equal("resnet14", row.Prop("Teacher"));
        Assert.Equal("final", row.Prop("Exit"));
        Assert.Equal(64, row.Prop("Count"));
        Assert.InRange((double)row.Prop("TeacherAgreement")!, 0.0, 1.0);
        Assert.Equal(2, row.Prop("Epochs"));
        Assert.Equal(83_892L - 6_500L + 260L, row.Prop("Parameters")); // resnet8: 100-class count, fc resized to 4 classes
        foreach (var property in row.Properties)
            Assert.True(property.Value is string or int or long or double or bool, $"{property.Name} is {property.Value?.GetType().Name}");

        Assert.Contains(result.Progress, p => p.Activity.StartsWith("KD: resnet14 → resnet8", StringComparison.Ordinal));
        Assert.Contains(result.Progress, p => p.ParentActivityId == 1 && p.StatusDescription.StartsWith("batch", StringComparison.Ordinal));
        Assert.Contains(result.Verbose, v => v.StartsWith("KD train epoch 2/2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_reports_last_and_best_epoch_and_loss_terms()
    {
        var result = _session.Run(Setup + """
            Invoke-Distillation -Teacher $teacher -Student resnet8 -Method KD -MethodOption @{ temperature = 2 } -Dataset $data -Epochs 2 -BatchSize 32
            """);
        result.AssertSucceeded();
        var run = Assert.Single(result.Output);
        Assert.Equal("KdTools.KdRun", run.TypeNames[0]);
        Assert.Equal("Temperature=2;Alpha=0.9;LogitStandardization=false", run.Prop("Options"));
        Assert.Equal("Completed", run.Prop("Status"));
        Assert.InRange((int)run.Prop("BestEpoch")!, 1, 2);
        Assert.True((double)run.Prop("BestTop1")! >= (double)run.Prop("Top1")!);
        Assert.Matches(@"^ce=[0-9.eE-]+;kd=[0-9.eE-]+$", (string)run.Prop("LossTerms")!);
    }

    [Fact]
    public void Unknown_method_option_is_terminating_and_lists_valid_keys()
    {
        var result = _session.Run(Setup + """
            $teacher | Invoke-Distillation -Student resnet8 -Method KD -MethodOption @{ Temp = 2 } -Dataset $data -Epochs 1
            """);
        Assert.Equal("KdTools.Method.OptionUnknown", result.FirstErrorId);
        Assert.Contains("valid options: Temperature, Alpha", result.FirstError!.Exception.Message);
    }

    [Fact]
    public void Class_count_mismatch_between_teacher_and_dataset_is_reported()
    {
        var result = _session.Run(Setup + """
            $other = Get-KdDataset -Synthetic -Classes 6 -TrainCount 64 -TestCount 32 -ImageSize 16
            $teacher | Invoke-Distillation -Student resnet8 -Method KD -Dataset $other -Epochs 1
            """);
        Assert.Equal("KdTools.Model.ClassCountMismatch", result.FirstErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, result.FirstError!.CategoryInfo.Category);
    }

    [Fact]
    public void Save_honours_WhatIf_and_Force_and_New_Teacher_loads_the_checkpoint()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kdtools-cmdlet-tests", Guid.NewGuid().ToString("N"));
        var file = Path.Combine(folder, "teacher.safetensors");
        var result = _session.Run(Setup + $$"""
            $teacher | Save-KdModel -Path '{{file}}' -WhatIf
            $afterWhatIf = [System.IO.File]::Exists('{{file}}')
            $teacher | Save-KdModel -Path '{{file}}'
            $teacher | Save-KdModel -Path '{{file}}' -ErrorAction SilentlyContinue -ErrorVariable again
            $loaded = New-Teacher -Path '{{file}}'
            $a = $teacher | Measure-Student -Dataset $data -NoTiming
            $b = $loaded | Measure-Student -Dataset $data -NoTiming
            [pscustomobject]@{ AfterWhatIf = $afterWhatIf; AgainId = $again[0].FullyQualifiedErrorId; Same = $a.Top1 -eq $b.Top1 -and $a.Loss -eq $b.Loss; Arch = $loaded.Architecture; With = $loaded.TrainedWith }
            """);
        Assert.Null(result.Terminating);
        var summary = Assert.Single(result.Output);
        Assert.Equal(false, summary.Prop("AfterWhatIf"));
        Assert.StartsWith("KdTools.Checkpoint.Exists", (string)summary.Prop("AgainId")!);
        Assert.Equal(true, summary.Prop("Same"));
        Assert.Equal("resnet14", summary.Prop("Arch"));
        Assert.Equal("CE", summary.Prop("With"));
    }

    /// <summary>
    /// The stop lands once training has reached its second batch progress record (signalled by the stream's event, not
    /// polled, and with no deadline that a loaded machine could miss); the resumable checkpoint it leaves must hold a
    /// position past that point, not just the one written before the first step.
    /// </summary>
    [Fact]
    public void Stopping_the_pipeline_saves_a_resumable_checkpoint()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kdtools-cmdlet-tests", Guid.NewGuid().ToString("N"));
        var result = _session.Run($"""
            $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 256 -TestCount 32 -ImageSize 16
            Invoke-Distillation -Student resnet8 -Method CE -Dataset $data -Epochs 100 -BatchSize 16 -CheckpointPath '{folder}' -Threads 2
            """, ps =>
        {
            int batchRecords = 0;
            ps.Streams.Progress.DataAdded += (_, e) =>
            {
                if (ps.Streams.Progress[e.Index].ParentActivityId == 1) Interlocked.Increment(ref batchRecords);
            };
            // No deadline: the run has 100 epochs; should it fail before training, the pipeline ends and so does the wait.
            while (Volatile.Read(ref batchRecords) < 2 && ps.InvocationStateInfo.State == PSInvocationState.Running) Thread.Sleep(10);
            ps.Stop();
        });
        Assert.Equal(PSInvocationState.Stopped, result.State);
        var checkpoint = Assert.Single(Directory.GetFiles(folder, "CE-resnet8-seed1-*-last.safetensors"));
        using var run = System.Text.Json.JsonDocument.Parse(Metadata(checkpoint)["run"]);
        Assert.Equal("train", run.RootElement.GetProperty("stage").GetString());
        Assert.True(run.RootElement.GetProperty("epoch").GetInt32() > 0 || run.RootElement.GetProperty("nextBatch").GetInt32() >= 2,
            $"the checkpoint holds the starting position, not the stop's: {run.RootElement}");
    }

    /// <summary>A safetensors file's string metadata (the JSON header's __metadata__).</summary>
    private static Dictionary<string, string> Metadata(string path)
    {
        using var stream = File.OpenRead(path);
        var length = new byte[8];
        stream.ReadExactly(length);
        var header = new byte[BitConverter.ToInt64(length)];
        stream.ReadExactly(header);
        using var json = System.Text.Json.JsonDocument.Parse(header);
        return json.RootElement.GetProperty("__metadata__").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }
}
