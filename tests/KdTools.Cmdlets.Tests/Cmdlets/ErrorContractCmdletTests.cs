using System.Management.Automation;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>
/// The error contract in the hosted engine: per-item failures are non-terminating, configuration failures terminate
/// before any work, and mistakes made at parameter binding carry KdTools ids.
/// </summary>
[Collection("module")]
public sealed class ErrorContractCmdletTests(ModuleFixture fixture) : IDisposable
{
    private const string Setup = """
        $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
        $a = New-Student -Architecture resnet8 -Dataset $data -Seed 1
        $other = New-Student -Architecture resnet8 -Classes 6
        $b = New-Student -Architecture resnet14 -Dataset $data -Seed 2

        """;

    private readonly ModuleSession _session = fixture.Session;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("-ErrorAction SilentlyContinue")]
    public void A_bad_model_between_two_good_ones_gives_two_rows_and_one_error(string errorAction)
    {
        var result = _session.Run(Setup + $"$a, $other, $b | Measure-Student -Dataset $data -NoTiming {errorAction} -ErrorVariable failures; $failures.Count");

        Assert.Null(result.Terminating);
        Assert.Equal(["resnet8", "resnet14"], result.Output.Take(2).Select(o => o.Properties["Model"].Value));
        Assert.Equal(1, result.Output[2].BaseObject);
        if (errorAction.Length == 0) Assert.Equal("KdTools.Model.ClassCountMismatch", result.FirstErrorId);
    }

    [Fact]
    public void A_teacher_of_another_class_count_stops_Measure_Student_before_any_row()
    {
        // Terminating: even -ErrorAction SilentlyContinue does not turn it into a skipped item.
        var result = _session.Run(Setup + """
            $rows = @()
            try { $rows = $a, $b | Measure-Student -Dataset $data -Teacher $other -NoTiming -ErrorAction SilentlyContinue }
            catch { $_.FullyQualifiedErrorId }
            $rows.Count
            """);

        Assert.Equal("KdTools.Model.ClassCountMismatch,KdTools.Cmdlets.Commands.MeasureStudentCommand", result.Output[0].BaseObject);
        Assert.Equal(0, result.Output[1].BaseObject);
    }

    [Theory]
    [InlineData("$a | Measure-Student -Dataset ./no-such-dataset", "KdTools.Dataset.PathNotFound")]
    [InlineData("$a | Measure-Student -Dataset $data -Teacher ./no-such-teacher.safetensors", "KdTools.Checkpoint.NotFound")]
    [InlineData("$a | Measure-Student -Dataset $a", "KdTools.Dataset.ArgumentInvalid")]
    [InlineData("Get-KdPrediction -Model 42 -Dataset $data", "KdTools.Model.ArgumentInvalid")]
    [InlineData("New-Student resnet8 -Dataset ./no-such-dataset", "KdTools.Dataset.PathNotFound")]
    [InlineData("Import-KdModel ./no-such-model.safetensors", "KdTools.Checkpoint.NotFound")]
    [InlineData("Invoke-Distillation resnet8 CE -Dataset ./no-such-dataset -Epochs 1", "KdTools.Dataset.PathNotFound")]
    [InlineData("Invoke-Distillation resnet8 -Teacher ./no-such-teacher.safetensors -Dataset $data -Epochs 1", "KdTools.Checkpoint.NotFound")]
    [InlineData("Invoke-Distillation resnet8 CE -Dataset 42 -Epochs 1", "KdTools.Dataset.ArgumentInvalid")]
    [InlineData("Invoke-Distillation resnet8 -Teacher 42 -Dataset $data -Epochs 1", "KdTools.Model.ArgumentInvalid")]
    [InlineData("New-Teacher resnet8 -Dataset ./no-such-dataset -Epochs 1", "KdTools.Dataset.PathNotFound")]
    [InlineData("Add-IntermediateHead -Teacher ./no-such-teacher.safetensors -Dataset $data -Epochs 1", "KdTools.Checkpoint.NotFound")]
    [InlineData("$a | Add-IntermediateHead -Dataset ./no-such-dataset -Epochs 1", "KdTools.Dataset.PathNotFound")]
    public void Bad_arguments_carry_their_KdTools_id_not_a_binding_error(string script, string errorId)
    {
        var result = _session.Run(Setup + script);

        Assert.Equal(errorId, result.FirstErrorId);
        Assert.StartsWith(errorId + ",", result.FirstError!.FullyQualifiedErrorId);
    }

    /// <summary>A file or folder object (Get-Item) is a path too; a file where the dataset folder belongs says so.</summary>
    [Fact]
    public void A_file_given_as_the_dataset_is_named_as_a_file_not_a_missing_folder()
    {
        var file = _folder.PathOf("train.csv");
        File.WriteAllText(file, "0,1,2,3\n");

        var result = _session.Run(Setup + $"Invoke-Distillation resnet8 CE -Dataset (Get-Item '{file}') -Epochs 1");

        Assert.Equal("KdTools.Dataset.Invalid", result.FirstErrorId);
        Assert.Contains($"'{file}' is a file, not a dataset folder", result.FirstError!.Exception.Message);
        Assert.Contains($"('{_folder.Path}')", result.FirstError.Exception.Message);
        Assert.Equal(ErrorCategory.InvalidArgument, result.FirstError.CategoryInfo.Category);
    }

    [Fact]
    public void A_save_that_cannot_write_is_a_checkpoint_error_naming_the_target()
    {
        File.WriteAllText(_folder.PathOf("blocker"), "a file where the folder should be");
        var target = Path.Combine(_folder.PathOf("blocker"), "a.safetensors");

        var result = _session.Run(Setup + $"$a | Save-KdModel -Path '{target}'; $b | Save-KdModel -Path '{_folder.PathOf("b.safetensors")}' -PassThru");

        Assert.Equal("KdTools.Checkpoint.WriteFailed", result.FirstErrorId);
        Assert.Equal(ErrorCategory.WriteError, result.FirstError!.CategoryInfo.Category);
        Assert.Contains($"'{target}'", result.FirstError.Exception.Message);
        Assert.Equal("resnet14", Assert.Single(result.Output).Properties["Architecture"].Value);
        Assert.True(File.Exists(_folder.PathOf("b.safetensors")));
    }
}
