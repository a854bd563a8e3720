using KdTools.Core.Data;
using KdTools.Core.Training;

namespace KdTools.Core.Tests.Training;

/// <summary>Learning-rate schedules, pre-stage schedules and recipes, checked both as functions and in the history of real runs.</summary>
public class ScheduleTests
{
    [Fact]
    public void Multistep_milestones_as_fractions_keep_their_place_when_a_run_is_shortened()
    {
        var recipe = TrainingRecipes.Get("RepDistiller").Settings;
        Assert.Equal(new[] { 150, 180, 210 }, recipe.Schedule.Milestones(240));
        Assert.Equal(new[] { 15, 18, 21 }, recipe.Schedule.Milestones(24));
        Assert.Equal(0.05, recipe.Schedule.RateAt(0.05, 149, 240, 0, 1), 15);
        Assert.Equal(0.005, recipe.Schedule.RateAt(0.05, 150, 240, 0, 1), 15);
        Assert.Equal(0.05 * 1e-3, recipe.Schedule.RateAt(0.05, 239, 240, 0, 1), 15);
        Assert.Equal("×0.1 at 150,180,210", recipe.Schedule.Describe(240));
    }

    [Fact]
    public void Milestones_as_epochs_stay_epochs_and_other_schedules_have_none()
    {
        var epochs = LearningRateSchedule.AtEpochs(0.2, 2, 5);
        Assert.Equal(new[] { 2, 5 }, epochs.Milestones(100));
        Assert.Equal(new[] { 2 }, epochs.Milestones(4));
        Assert.Equal(0.1 * 0.2 * 0.2, epochs.RateAt(0.1, 5, 100, 0, 10), 15);
        Assert.Equal(0.3, LearningRateSchedule.Constant.RateAt(0.3, 99, 100, 9, 10));
        Assert.Empty(LearningRateSchedule.Constant.Milestones(100));
    }

    [Fact]
    public void Poly_decays_every_step_over_the_stage()
    {
        var poly = LearningRateSchedule.PolyDecay();
        Assert.Equal(0.01, poly.RateAt(0.01, 0, 2, 0, 4), 15);
        // Step 5 of 8: (1 − 5/8)^0.9.
        Assert.Equal(0.01 * Math.Pow(3.0 / 8, 0.9), poly.RateAt(0.01, 1, 2, 1, 4), 15);
        Assert.True(poly.RateAt(0.01, 1, 2, 3, 4) > 0);
    }

    [Fact]
    public void Invalid_schedules_fail_with_the_reason()
    {
        var ex = Assert.Throws<KdException>(() => (new TrainingSettings { Schedule = LearningRateSchedule.AtFractions(0.1, 0.75, 0.5) }).Validate());
        Assert.Equal(KdErrorIds.TrainingSettingInvalid, ex.ErrorId);
        Assert.Contains("increasing", ex.Message);
        Assert.Throws<KdException>(() => LearningRateSchedule.AtFractions(0.1, 1.5).Validate("Schedule"));
        Assert.Throws<KdException>(() => (LearningRateSchedule.AtEpochs(0.1, 3) with { MilestoneFractions = [0.5] }).Validate("Schedule"));
    }

    [Fact]
    public void A_pre_stage_longer_than_the_main_stage_runs_at_its_own_constant_rate()
    {
        // One batch per epoch: 12 hint epochs, then 4 main epochs with milestones at 2 and 3.
        using var data = TinySetup.Dataset(train: 32, test: 16);
        var teacher = TinySetup.Job(data).Student;
        var job = TinySetup.Job(data, "FitNet", teacher, options: new Dictionary<string, object?> { ["HintEpochs"] = 12, ["HintLearningRate"] = 0.02 });
        var result = new Trainer(TinySetup.Settings(epochs: 4)).Run(job);

        var hint = result.History.Where(h => h.Stage == "hint").ToList();
        Assert.Equal(12, hint.Count);
        Assert.All(hint, h => Assert.Equal(0.02, h.LearningRate));
        Assert.Equal(new[] { 0.05, 0.05, 0.005, 0.0005 }, result.TrainEpochs.Select(h => Math.Round(h.LearningRate, 10)));
    }

    [Fact]
    public void The_engine_applies_a_poly_schedule_step_by_step()
    {
        using var data = TinySetup.Dataset(train: 128, test: 16);
        var rates = new List<double>();
        var trainer = new Trainer(TinySetup.Settings(epochs: 2) with { Schedule = LearningRateSchedule.PolyDecay() });
        trainer.Progress += p => rates.Add(p.LearningRate);
        var result = trainer.Run(TinySetup.Job(data));

        var expected = Enumerable.Range(0, 8).Select(step => 0.05 * Math.Pow(1 - step / 8.0, 0.9));
        Assert.Equal(expected, rates);
        Assert.Equal(new[] { 0.05, 0.05 * Math.Pow(0.5, 0.9) }, result.TrainEpochs.Select(h => h.LearningRate));
    }

    [Fact]
    public void The_DIH_recipe_shows_in_the_history_as_Nesterov_and_x0_2_decays_at_30_60_90_percent()
    {
        using var data = TinySetup.Dataset(train: 64, test: 16);
        var settings = TrainingRecipes.Get("DIH").SettingsFor("resnet8") with { Epochs = 10, BatchSize = 32, Threads = 2 };
        var result = Distillation.Run(new DistillationRequest { Dataset = data, StudentArchitecture = "resnet8", MethodName = "CE", Settings = settings });

        Assert.Equal("DIH", result.Recipe);
        Assert.All(result.History, h => Assert.True(h.Nesterov));
        Assert.Equal(new[] { 0.1, 0.1, 0.1, 0.02, 0.02, 0.02, 0.004, 0.004, 0.004, 0.0008 },
            result.TrainEpochs.Select(h => Math.Round(h.LearningRate, 12)));
        Assert.Equal(PaddingMode.Reflect, result.Settings.Augmentation.PaddingMode);
    }

    [Fact]
    public void Recipes_are_named_and_an_unknown_one_lists_the_known()
    {
        Assert.Equal(new[] { "Default", "Default", "RepDistiller", "DIH", "TOFD", "BYOT", "FT", "TAKD", "SKD" }, TrainingRecipes.All.Select(r => r.Name));
        Assert.Equal(new TrainingSettings(), TrainingRecipes.Get("default").Settings);
        Assert.Equal(new TrainingSettings(), TrainingRecipes.DefaultFor(PredictionTask.Classification).Settings);
        Assert.Equal(TrainingRecipes.Get("SKD").Settings with { Recipe = "Default", Epochs = 10 },
            TrainingRecipes.Get("DEFAULT", PredictionTask.Segmentation).Settings);
        var repDistiller = TrainingRecipes.Get("RepDistiller");
        Assert.Equal(0.05, repDistiller.SettingsFor("resnet8").LearningRate);
        var mobile = new Core.Models.ArchitectureInfo("mobile", "test", "a lightweight network", 3, _ => throw new NotSupportedException()) { Lightweight = true };
        Assert.Equal(0.01, repDistiller.SettingsFor(mobile).LearningRate);
        Assert.Equal(0.1, TrainingRecipes.Get("DIH").SettingsFor(mobile).LearningRate);
        Assert.Equal(0.01, TrainingRecipes.Get("Default").SettingsFor(mobile).LearningRate);
        Assert.Equal(new[] { 83, 166, 240 }, TrainingRecipes.Get("BYOT").Settings.Schedule.Milestones(250));
        Assert.Equal(new[] { 80, 160, 240 }, TrainingRecipes.Get("TOFD").Settings.Schedule.Milestones(250));
        Assert.Equal(new[] { 82, 123 }, TrainingRecipes.Get("FT").Settings.Schedule.Milestones(164));
        Assert.Equal(new[] { 120 }, TrainingRecipes.Get("TAKD").Settings.Schedule.Milestones(160));
        var ex = Assert.Throws<KdException>(() => TrainingRecipes.Get("Repdistill"));
        Assert.Equal(KdErrorIds.RecipeUnknown, ex.ErrorId);
        Assert.Contains("RepDistiller", ex.Message);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(ex.Message, "Default"));
    }

    [Fact]
    public void Head_fine_tuning_defaults_to_DIHs_head_schedule()
    {
        var settings = HeadFineTuning.DefaultSettings();
        Assert.Equal(HeadFineTuning.DefaultEpochs, settings.Epochs);
        Assert.True(settings.Nesterov);
        Assert.Equal(0.1, settings.LearningRate);
        Assert.Equal(new[] { 9, 18, 27 }, settings.Schedule.Milestones(30));
        Assert.Equal(0.2, settings.Schedule.Decay);
    }
}
