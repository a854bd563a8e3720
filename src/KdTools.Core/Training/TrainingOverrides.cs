using System.Globalization;
using KdTools.Core.Data;

namespace KdTools.Core.Training;

/// <summary>
/// The settings a caller gives explicitly, each on top of the recipe's (null = the recipe's value). This is what a
/// training cmdlet's parameters bind to; Core merges it once, in <see cref="RunConfiguration.Resolve"/>.
/// </summary>
public sealed record TrainingOverrides
{
    public int? Epochs { get; init; }
    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public double? Momentum { get; init; }
    public bool? Nesterov { get; init; }
    public double? WeightDecay { get; init; }

    /// <summary>The main stage's schedule kind; MultiStep keeps the recipe's milestones unless <see cref="LrMilestones"/> is given.</summary>
    public LearningRateScheduleKind? LrSchedule { get; init; }

    /// <summary>Multistep milestones: epochs (whole numbers ≥ 1) or fractions of the epochs (in (0, 1)), not mixed.</summary>
    public IReadOnlyList<double>? LrMilestones { get; init; }

    /// <summary>The multistep factor at each milestone.</summary>
    public double? LrDecay { get; init; }

    /// <summary>Train on the images as they are: no augmentation for either task.</summary>
    public bool NoAugment { get; init; }

    public long? Seed { get; init; }
    public string? Device { get; init; }
    public int? Threads { get; init; }
    public string? CheckpointDirectory { get; init; }
    public bool? KeepBestWeights { get; init; }

    /// <summary><paramref name="recipe"/>'s settings with every given value on top.</summary>
    public TrainingSettings ApplyTo(TrainingSettings recipe)
    {
        var settings = recipe;
        if (Epochs is { } epochs) settings = settings with { Epochs = epochs };
        if (BatchSize is { } batch) settings = settings with { BatchSize = batch };
        if (LearningRate is { } rate) settings = settings with { LearningRate = rate };
        if (Momentum is { } momentum) settings = settings with { Momentum = momentum };
        if (Nesterov is { } nesterov) settings = settings with { Nesterov = nesterov };
        if (WeightDecay is { } decay) settings = settings with { WeightDecay = decay };
        if (NoAugment) settings = settings with { Augmentation = AugmentationPolicy.None, SegmentationAugmentation = SegmentationAugmentationPolicy.None };
        if (Seed is { } seed) settings = settings with { Seed = seed };
        if (Device is { } device) settings = settings with { Device = device };
        if (Threads is { } threads) settings = settings with { Threads = threads };
        if (CheckpointDirectory is { } folder) settings = settings with { CheckpointDirectory = folder };
        if (KeepBestWeights is { } best) settings = settings with { KeepBestWeights = best };
        return settings with { Schedule = Schedule(settings.Schedule) };
    }

    private LearningRateSchedule Schedule(LearningRateSchedule recipe)
    {
        var kind = LrSchedule ?? recipe.Kind;
        if (kind != LearningRateScheduleKind.MultiStep)
        {
            if (LrMilestones is not null || LrDecay is not null)
                throw Invalid($"-LrMilestones and -LrDecay apply to a multistep schedule, not to {kind}; drop them or use -LrSchedule MultiStep", nameof(LrSchedule));
            if (LrSchedule is null) return recipe;
            return kind == LearningRateScheduleKind.Constant ? LearningRateSchedule.Constant : LearningRateSchedule.PolyDecay();
        }
        var schedule = recipe.Kind == LearningRateScheduleKind.MultiStep ? recipe : new TrainingSettings().Schedule;
        if (LrMilestones is { } milestones)
        {
            if (milestones.All(m => m >= 1 && m == Math.Floor(m)))
                schedule = LearningRateSchedule.AtEpochs(schedule.Decay, milestones.Select(m => (int)m).ToArray());
            else if (milestones.All(m => m is > 0 and < 1))
                schedule = LearningRateSchedule.AtFractions(schedule.Decay, [.. milestones]);
            else
                throw Invalid($"-LrMilestones {string.Join(",", milestones.Select(m => m.ToString(CultureInfo.InvariantCulture)))} mixes kinds: give epochs (whole numbers ≥ 1, e.g. 150,180,210) or fractions of the epochs (in (0, 1), e.g. 0.5,0.75)", nameof(LrMilestones));
        }
        if (LrDecay is { } factor) schedule = schedule with { Decay = factor };
        return schedule;
    }

    private static KdException Invalid(string message, string target) =>
        new(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument, message, target);
}
