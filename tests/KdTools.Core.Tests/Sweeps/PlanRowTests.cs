using KdTools.Core.Methods;
using KdTools.Core.Sweeps;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Sweeps;

/// <summary>A plan row read and merged by Core: typed cells, the command line's values win, one row's error.</summary>
public sealed class PlanRowTests
{
    private static readonly KdTools.Core.Data.KdDataset Data = TinySetup.Dataset(train: 8, test: 4);

    private static DistillationRequest CommandLine(TrainingOverrides? overrides = null) => new()
    {
        Dataset = Data, MethodName = "KD", Overrides = overrides ?? new TrainingOverrides { Seed = 1 },
    };

    [Fact]
    public void Text_cells_become_the_request_and_its_overrides()
    {
        var row = PlanRow.Read(new Dictionary<string, object?>
        {
            ["student"] = "ResNet8", ["Method"] = "DKD", ["Options"] = "Temperature=2; Beta=8", ["KdWeight"] = "0.5",
            ["Recipe"] = "DIH", ["Epochs"] = "3", ["LearningRate"] = "0.02", ["Nesterov"] = "false", ["LrMilestones"] = "0.5,0.75",
            ["Seed"] = "7", ["UseBest"] = "1", ["LrSchedule"] = "MultiStep", ["Notes"] = "ignored", ["BatchSize"] = "",
        });
        var request = row.ApplyTo(CommandLine(), given: []);
        Assert.Equal(("resnet8", "DKD", 0.5, "DIH"), (request.StudentArchitecture, request.MethodName, request.KdWeight, request.Recipe));
        Assert.Equal(new Dictionary<string, object?> { ["Temperature"] = "2", ["Beta"] = "8" }, request.MethodOptions);
        var o = request.Overrides!;
        Assert.Equal((3, 0.02, false, 7L, true, (int?)null), (o.Epochs, o.LearningRate, o.Nesterov, o.Seed, o.KeepBestWeights, o.BatchSize));
        Assert.Equal([0.5, 0.75], o.LrMilestones);
        Assert.False(row.Values.ContainsKey("Notes"));
    }

    [Fact]
    public void The_command_line_wins_over_every_row()
    {
        var row = PlanRow.Read(new Dictionary<string, object?> { ["Student"] = "resnet8", ["Method"] = "AT", ["Epochs"] = "3", ["Seed"] = "9" });
        var request = row.ApplyTo(CommandLine(new TrainingOverrides { Epochs = 1, Seed = 1 }) with { MethodName = "KD" }, given: ["Epochs", "Method"]);
        Assert.Equal(("KD", 1, 9L), (request.MethodName, request.Overrides!.Epochs, request.Overrides.Seed));
    }

    [Theory]
    [InlineData("Epochs", "two", "the plan row's Epochs = 'two' is not a whole number")]
    [InlineData("Epochs", "1.5", "the plan row's Epochs = '1.5' is not a whole number")]
    [InlineData("LearningRate", "0,05", "the plan row's LearningRate = '0,05' is not a number")]
    [InlineData("Options", "Temperature", "the plan row's MethodOption = 'Temperature' is not a Hashtable: method option 'Temperature' is not Name=value")]
    [InlineData("LrSchedule", "Cosine", "the plan row's LrSchedule = 'Cosine' is not a one of MultiStep")]
    public void A_malformed_cell_is_the_rows_error_naming_column_and_value(string column, string cell, string message)
    {
        var ex = Assert.Throws<KdException>(() => PlanRow.Read(new Dictionary<string, object?> { ["Student"] = "resnet8", [column] = cell }));
        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void A_row_without_a_student_needs_one_from_the_command_line()
    {
        var ex = Assert.Throws<KdException>(() => PlanRow.Read(new Dictionary<string, object?> { ["Epochs"] = "1" }).ApplyTo(CommandLine(), given: []));
        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
        Assert.Contains("no Student", ex.Message);
    }

    [Fact]
    public void Method_option_text_keeps_values_as_text_and_refuses_a_part_without_a_name()
    {
        Assert.Equal(new Dictionary<string, object?> { ["Temperature"] = "2", ["Alpha"] = "0.5" }, MethodOptionText.Parse(" Temperature = 2 ;Alpha=0.5;"));
        Assert.Throws<FormatException>(() => MethodOptionText.Parse("=2"));
    }
}
