using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Training;

/// <summary>
/// Issue 23: a quick (Default-recipe) run's pre-stages scale with its main stage, as RepDistiller's 30 of 240, and its
/// warm-ups ramp step by step; paper recipes and values the caller gives are kept; RepDistiller's initialisation stages
/// train at the student's rate.
/// </summary>
public class QuickRunDefaultsTests
{
    [Theory]
    [InlineData("DKD")]
    [InlineData("ReviewKD")]
    [InlineData("DIST")]
    public void A_quick_run_ramps_the_warm_up_step_by_step_unless_the_caller_chose(string method)
    {
        using var quick = MethodRegistry.Create(method);
        quick.Options.FitToQuickRun(3);
        Assert.Contains("WarmupPerStep=true", quick.Options.ToCompactString());

        using var chosen = MethodRegistry.Create(method, new Dictionary<string, object?> { ["WarmupPerStep"] = false });
        chosen.Options.FitToQuickRun(3);
        Assert.Contains("WarmupPerStep=false", chosen.Options.ToCompactString());

        using var paper = MethodRegistry.Create(method);
        Assert.DoesNotContain("WarmupPerStep", paper.Options.ToCompactString());
    }

    [Fact]
    public void A_quick_dkd_run_warms_up_over_the_whole_run_unless_the_caller_sized_the_warm_up()
    {
        using var quick = MethodRegistry.Create("DKD");
        quick.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)WarmupEpochs=240(;|$)", quick.Options.ToCompactString());

        using var chosen = MethodRegistry.Create("DKD", new Dictionary<string, object?> { ["WarmupEpochs"] = 20.0 });
        chosen.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)WarmupEpochs=20(;|$)", chosen.Options.ToCompactString());

        using var paper = MethodRegistry.Create("DKD");
        Assert.Matches("(^|;)WarmupEpochs=20(;|$)", paper.Options.ToCompactString());
    }

    /// <summary>
    /// DIST's quick run: the authors' ImageNet τ = 1 and a warm-up over the whole run, each unless the caller chose;
    /// the paper values stay the authors' CIFAR configuration (τ = 4, no warm-up).
    /// </summary>
    [Fact]
    public void A_quick_dist_run_takes_temperature_1_and_warms_up_over_the_whole_run_unless_the_caller_chose()
    {
        using var quick = MethodRegistry.Create("DIST");
        quick.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)Temperature=1;.*(^|;)WarmupEpochs=240(;|$)", quick.Options.ToCompactString());

        using var chosen = MethodRegistry.Create("DIST", new Dictionary<string, object?> { ["Temperature"] = 4.0, ["WarmupEpochs"] = 0.0 });
        chosen.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)Temperature=4;.*(^|;)WarmupEpochs=0(;|$)", chosen.Options.ToCompactString());

        using var paper = MethodRegistry.Create("DIST");
        Assert.Matches("(^|;)Temperature=4;.*(^|;)WarmupEpochs=0(;|$)", paper.Options.ToCompactString());
    }

    [Fact]
    public void A_quick_run_weighs_RepDistillers_factor_transfer_by_50_unless_the_caller_or_the_variant_chose()
    {
        using var quick = MethodRegistry.Create("FT");
        quick.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)Beta=50(;|$)", quick.Options.ToCompactString());

        using var chosen = MethodRegistry.Create("FT", new Dictionary<string, object?> { ["Beta"] = 200.0 });
        chosen.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)Beta=200(;|$)", chosen.Options.ToCompactString());

        using var official = MethodRegistry.Create("FT", new Dictionary<string, object?> { ["Variant"] = "official" });
        official.Options.FitToQuickRun(3);
        Assert.Matches("(^|;)Beta=500(;|$)", official.Options.ToCompactString());

        using var paper = MethodRegistry.Create("FT");
        Assert.Matches("(^|;)Beta=200(;|$)", paper.Options.ToCompactString());
    }

    /// <summary>
    /// 20 of 240 epochs is 1/4 epoch of a 3-epoch run: mdistiller's per-epoch factor is 1 from the first step, the
    /// per-step line starts at (1/10 epoch) / (1/4 epoch) = 0.4 with 10 batches per epoch and reaches 1 at batch 3.
    /// </summary>
    [Theory]
    [InlineData(0, 0, false, 1.0)]
    [InlineData(0, 0, true, 0.4)]
    [InlineData(0, 1, true, 0.8)]
    [InlineData(0, 2, true, 1.0)]
    [InlineData(1, 0, true, 1.0)]
    public void The_per_step_warm_up_follows_mdistillers_line_within_an_epoch(int epoch, int batch, bool perStep, double expected)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var empty = TorchSharp.torch.zeros(1);
        var step = new StepContext(empty, empty, empty, null, null, epoch, epochs: 3) { Batch = batch, Batches = 10 };
        Assert.Equal(expected, EpochWarmup.Factor(step, 20, perStep), 12);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(10, 1)]
    [InlineData(12, 2)]
    [InlineData(40, 5)]
    [InlineData(240, 30)]
    [InlineData(400, 30)]
    public void A_quick_pre_stage_is_an_eighth_of_the_main_stage_at_least_one_and_at_most_the_papers(int main, int expected) =>
        Assert.Equal(expected, MethodOptions.QuickPreStageEpochs(30, main));

    [Theory]
    [InlineData("FitNet", "HintEpochs")]
    [InlineData("AB", "InitEpochs")]
    [InlineData("FSP", "InitEpochs")]
    [InlineData("FT", "ParaphraserEpochs")]
    [InlineData("MHKD", "HeadEpochs")]
    [InlineData("TOFD", "HeadEpochs")]
    public void Every_pre_stage_scales_unless_the_caller_sized_it(string method, string option)
    {
        using var scaled = MethodRegistry.Create(method);
        scaled.Options.FitToQuickRun(16);
        Assert.Contains($"{option}=2", scaled.Options.ToCompactString());
        Assert.Equal(2, scaled.PreStages.Single().Epochs);

        using var given = MethodRegistry.Create(method, new Dictionary<string, object?> { [option] = 7 });
        given.Options.FitToQuickRun(16);
        Assert.Equal(7, given.PreStages.Single().Epochs);
    }

    [Fact]
    public void The_default_recipe_scales_a_runs_pre_stage_and_records_its_length_while_a_paper_recipe_keeps_the_paper_length()
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        var log = new ListLogger();
        var quick = Distillation.Run(new DistillationRequest
        {
            Dataset = data, StudentArchitecture = "resnet8", Teacher = teacher, MethodName = "FitNet", Settings = TinySetup.Settings(3), Logger = log,
        });
        Assert.Equal([("hint", 1)], quick.PreStages);
        Assert.Single(quick.History, h => h.Stage == "hint");
        Assert.Contains("HintEpochs=1", quick.MethodOptions);
        Assert.Contains(log.Messages, m => m.Contains("hint 1 epoch(s) at lr 0.05 (HintEpochs = 1, recipe Default)") && m.Contains("train 3 epoch(s)"));

        // A paper recipe keeps the paper's 30 epochs (stopped after its first batch: only the plan is checked).
        using var stop = new CancellationTokenSource();
        var paper = Distillation.Run(new DistillationRequest
        {
            Dataset = data, StudentArchitecture = "resnet8", Teacher = teacher, MethodName = "FitNet",
            Settings = TrainingRecipes.Get("RepDistiller").Settings with { Epochs = 3, BatchSize = 32, Threads = 2 },
            Progress = _ => stop.Cancel(),
        }, stop.Token);
        Assert.True(paper.Cancelled);
        Assert.Equal([("hint", 30)], paper.PreStages);
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Messages { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter) => Messages.Add(formatter(state, exception));
    }

    [Theory]
    [InlineData("FSP")]
    [InlineData("AB")]
    public void RepDistillers_initialisation_stage_trains_at_the_students_learning_rate(string method)
    {
        using var data = TinySetup.Dataset(train: 64, test: 32);
        var teacher = ArchitectureRegistry.Create("resnet8", data.Classes, seed: 3);
        var result = Distillation.Run(new DistillationRequest
        {
            Dataset = data, StudentArchitecture = "resnet8", Teacher = teacher, MethodName = method,
            Settings = TinySetup.Settings(1) with { LearningRate = 0.01 },
        });
        Assert.Equal(0.01, result.History.Single(h => h.Stage == "init").LearningRate);
    }
}
