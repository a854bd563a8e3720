namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>
/// What a run object promises: piping never changes the next run's settings, a plan row sets them in its own parameter
/// set, one run per Invoke-Distillation (TAKD's assistant inside it), recipes with explicit overrides, history on demand.
/// </summary>
[Collection("module")]
public sealed class RunContractCmdletTests(ModuleFixture fixture)
{
    // The runspace outlives the test class, so the data and teacher are made once and shared.
    private const string Setup = """
        if (-not $global:RunContractSetup) {
            $setupData = Get-KdDataset -Synthetic -Classes 4 -TrainCount 64 -TestCount 32 -ImageSize 16 -Seed 1
            $global:RunContractSetup = @{
                Data = $setupData
                Teacher = New-Teacher -Architecture resnet8 -Dataset $setupData -Epochs 1 -BatchSize 32 -Threads 2
            }
        }
        $data = $RunContractSetup.Data
        $teacher = $RunContractSetup.Teacher

        """;

    private readonly ModuleSession _session = fixture.Session;

    [Fact]
    public void A_piped_run_supplies_the_teacher_and_nothing_else()
    {
        var result = _session.Run(Setup + """
            $ce = Invoke-Distillation -Student resnet8 -Method CE -Dataset $data -Epochs 1 -BatchSize 32 -LearningRate 0.01 -Seed 7 -Threads 2
            $ce | Invoke-Distillation -Student resnet8 -Dataset $data -BatchSize 32 -Threads 2
            """);
        result.AssertSucceeded();
        var next = Assert.Single(result.Output);
        Assert.Equal("KD", next.Prop("Method"));
        Assert.Equal("resnet8", next.Prop("Teacher"));
        Assert.Equal(0.05, next.Prop("LearningRate"));
        Assert.Equal(1L, next.Prop("Seed"));
        Assert.Equal(10, next.Prop("Epochs"));
        Assert.Equal("Default", next.Prop("Recipe"));
    }

    [Fact]
    public void A_piped_run_without_a_student_is_refused_instead_of_read_as_a_plan()
    {
        var result = _session.Run(Setup + """
            $teacher | Invoke-Distillation -Dataset $data -Epochs 1
            """);
        Assert.Equal("KdTools.Training.SettingInvalid", result.FirstErrorId);
        Assert.Contains("supplies the teacher and nothing else", result.FirstError!.Exception.Message);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void Plan_rows_set_each_runs_hyper_parameters_and_nothing_leaks_into_the_next_row()
    {
        // Cells are strings, as Import-Csv gives them.
        var result = _session.Run(Setup + """
            [pscustomobject]@{ Student = 'resnet8'; Method = 'KD'; Epochs = '1'; LearningRate = '0.02'; Seed = '5'; Options = 'Temperature=2' },
            [pscustomobject]@{ Student = 'resnet8'; Method = 'CE'; Epochs = '2'; LearningRate = ''; Recipe = 'DIH'; Notes = 'ignored' } |
                Invoke-Distillation -Teacher $teacher -Dataset $data -BatchSize 32 -Threads 2
            """);
        result.AssertSucceeded();
        Assert.Equal(2, result.Output.Count);
        var (kd, ce) = (result.Output[0], result.Output[1]);
        Assert.Equal(("KD", 1, 0.02, 5L, "Temperature=2;Alpha=0.9;LogitStandardization=false", "Default"),
            (kd.Prop("Method"), kd.Prop("Epochs"), kd.Prop("LearningRate"), kd.Prop("Seed"), kd.Prop("Options"), kd.Prop("Recipe")));
        Assert.Equal(("CE", 2, 0.1, 1L, "DIH", true, ""),
            (ce.Prop("Method"), ce.Prop("Epochs"), ce.Prop("LearningRate"), ce.Prop("Seed"), ce.Prop("Recipe"), ce.Prop("Nesterov"), ce.Prop("Teacher")));
        Assert.All(result.Output, r => Assert.Equal(32, r.Prop("BatchSize")));
    }

    [Fact]
    public void A_plan_row_with_a_malformed_cell_fails_alone_and_the_next_rows_run()
    {
        var result = _session.Run(Setup + """
            [pscustomobject]@{ Student = 'resnet8'; Method = 'CE'; Epochs = '1' },
            [pscustomobject]@{ Student = 'resnet8'; Method = 'CE'; Epochs = 'two' },
            [pscustomobject]@{ Student = 'resnet8'; Method = 'CE'; Epochs = '1'; Seed = '2' } |
                Invoke-Distillation -Dataset $data -BatchSize 32 -Threads 2
            """);
        Assert.Null(result.Terminating);
        Assert.Equal("KdTools.Training.SettingInvalid", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("the plan row's Epochs = 'two' is not a whole number", result.FirstError!.Exception.Message);
        Assert.Equal([1L, 2L], result.Output.Select(r => r.Prop("Seed")));
    }

    [Fact]
    public void TAKD_emits_one_run_with_the_assistants_run_inside_and_Get_KdHistory_lists_both()
    {
        var result = _session.Run(Setup + """
            $run = $teacher | Invoke-Distillation -Student resnet8 -Method TAKD -MethodOption @{ Assistant = 'resnet8'; AssistantEpochs = 1 } -Dataset $data -Epochs 2 -BatchSize 32 -Threads 2
            $run
            $run.EarlierRuns.Count
            $run.EarlierRuns[0].Student + ':' + $run.EarlierRuns[0].Method + ':' + $run.EarlierRuns[0].Epochs
            @($run | Get-KdHistory).Count
            @($run | Get-KdHistory -IncludeEarlierRuns).Count
            """);
        result.AssertSucceeded();
        var run = result.Output[0];
        Assert.Equal("KdTools.KdRun", run.TypeNames[0]);
        Assert.Equal("TAKD", run.Prop("Method"));
        Assert.Equal("resnet8", run.Prop("Teacher"));
        Assert.Equal(1, result.Output[1].BaseObject);
        Assert.Equal("resnet8:KD:1", result.Output[2].BaseObject);
        Assert.Equal(2, result.Output[3].BaseObject);
        Assert.Equal(3, result.Output[4].BaseObject);
        Assert.Equal(5, result.Output.Count);
    }

    [Fact]
    public void A_recipe_gives_the_settings_and_explicit_parameters_override_them()
    {
        var result = _session.Run(Setup + """
            $run = Invoke-Distillation -Student resnet8 -Method CE -Recipe DIH -Epochs 10 -LearningRate 0.2 -BatchSize 32 -Dataset $data -Threads 2 -UseBest
            $run
            $run | Get-KdHistory
            """);
        result.AssertSucceeded();
        var run = result.Output[0];
        Assert.Equal(("DIH", 10, 0.2, true, "×0.2 at 3,6,9", "crop4-reflect,flip"),
            (run.Prop("Recipe"), run.Prop("Epochs"), run.Prop("LearningRate"), run.Prop("Nesterov"), run.Prop("Schedule"), run.Prop("Augmentation")));
        Assert.Equal(0.0005, run.Prop("WeightDecay"));
        Assert.InRange((double)run.Prop("BestTop5")!, 0.0, 1.0);
        Assert.Equal(run.Prop("Top5"), run.Prop("BestTop5"));
        // A classification run has no segmentation score.
        Assert.True(double.IsNaN((double)run.Prop("MeanIoU")!));
        var history = result.Output.Skip(1).ToList();
        Assert.All(history, h => Assert.Equal("KdTools.KdEpoch", h.TypeNames[0]));
        Assert.All(history, h => Assert.Equal(true, h.Prop("Nesterov")));
        Assert.Equal(new[] { 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.008, 0.008, 0.008, 0.0016 },
            history.Select(h => Math.Round((double)h.Prop("LearningRate")!, 12)));
    }

    [Fact]
    public void Get_KdRecipe_lists_every_setting_of_each_recipe()
    {
        var result = _session.Run("""
            Get-KdRecipe
            Get-KdRecipe RepDist*
            Get-KdRecipe NoSuchRecipe
            """);
        Assert.Equal(["Default", "Default", "RepDistiller", "DIH", "TOFD", "BYOT", "FT", "TAKD", "SKD"], result.Output.Take(9).Select(r => (string)r.Prop("Name")!));
        // The default of each task, first; a segmentation recipe shows the augmentation of images and label maps together.
        Assert.Equal(["Classification", "Segmentation"], result.Output.Take(2).Select(r => (string)r.Prop("Task")!));
        Assert.Equal((0.05, 0.01, 64, "×0.1 at 6,8,9"), (result.Output[0].Prop("LearningRate"), result.Output[0].Prop("LightweightLearningRate"),
            result.Output[0].Prop("BatchSize"), result.Output[0].Prop("Schedule")));
        Assert.Equal((10, 0.01, 8, "poly 0.9", "scale0.5-2,flip"), (result.Output[1].Prop("Epochs"), result.Output[1].Prop("LearningRate"),
            result.Output[1].Prop("BatchSize"), result.Output[1].Prop("Schedule"), result.Output[1].Prop("Augmentation")));
        Assert.Equal(("poly 0.9", "scale0.5-2,flip"), (result.Output[8].Prop("Schedule"), result.Output[8].Prop("Augmentation")));
        var rep = result.Output[9];
        Assert.Equal(("RepDistiller", 240, 0.05, 0.01, 0.9, false, 0.0005, 64, "×0.1 at 150,180,210", "62.5%,75%,87.5%", "crop4,flip"),
            (rep.Prop("Name"), rep.Prop("Epochs"), rep.Prop("LearningRate"), rep.Prop("LightweightLearningRate"), rep.Prop("Momentum"),
                rep.Prop("Nesterov"), rep.Prop("WeightDecay"), rep.Prop("BatchSize"), rep.Prop("Schedule"), rep.Prop("Milestones"), rep.Prop("Augmentation")));
        foreach (var property in rep.Properties)
            Assert.True(property.Value is string or int or double or bool, $"{property.Name} is {property.Value?.GetType().Name}");
        Assert.Equal(10, result.Output.Count);
        Assert.Equal("KdTools.Recipe.Unknown", result.FirstErrorId);
        Assert.Contains("known: Default, RepDistiller, DIH", result.FirstError!.Exception.Message);
    }
}
