using System.Globalization;

namespace KdTools.Core.Training;

/// <summary>How a stage's learning rate moves.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The base rate, multiplied by <see cref="LearningRateSchedule.Decay"/> at each milestone (PyTorch's MultiStepLR).</summary>
    MultiStep,

    /// <summary>The base rate throughout (RepDistiller's pre-training stages).</summary>
    Constant,

    /// <summary>base · (1 − step/steps)^power, updated every step over the stage's steps (SKD's segmentation recipe).</summary>
    Poly,
}

/// <summary>
/// A stage's learning-rate schedule. The engine asks <see cref="RateAt"/> before every step, so what tests check is
/// what runs. Multistep milestones are either epochs (fixed) or fractions of the stage's length (a recipe's shape,
/// kept when a run is shortened).
/// </summary>
public sealed record LearningRateSchedule
{
    public LearningRateScheduleKind Kind { get; init; } = LearningRateScheduleKind.MultiStep;

    /// <summary>
    /// Multistep: 0-based epochs from which the rate is multiplied once more by <see cref="Decay"/> (PyTorch MultiStepLR's
    /// milestones; 150 = after 150 epochs). Null when the milestones are <see cref="MilestoneFractions"/>.
    /// </summary>
    public IReadOnlyList<int>? MilestoneEpochs { get; init; }

    /// <summary>Multistep: milestones as fractions of the stage's epochs (0.625 of 240 = epoch 150), rounded to an epoch.</summary>
    public IReadOnlyList<double>? MilestoneFractions { get; init; }

    /// <summary>Multistep: the factor applied at each milestone.</summary>
    public double Decay { get; init; } = 0.1;

    /// <summary>Poly: the exponent.</summary>
    public double Power { get; init; } = 0.9;

    /// <summary>The base rate throughout.</summary>
    public static LearningRateSchedule Constant { get; } = new() { Kind = LearningRateScheduleKind.Constant };

    /// <summary>×<paramref name="decay"/> from each of <paramref name="epochs"/> (0-based epoch indices, as MultiStepLR).</summary>
    public static LearningRateSchedule AtEpochs(double decay, params int[] epochs) =>
        new() { Kind = LearningRateScheduleKind.MultiStep, Decay = decay, MilestoneEpochs = epochs };

    /// <summary>×<paramref name="decay"/> at fractions of the stage's length, so a shortened run keeps the shape.</summary>
    public static LearningRateSchedule AtFractions(double decay, params double[] fractions) =>
        new() { Kind = LearningRateScheduleKind.MultiStep, Decay = decay, MilestoneFractions = fractions };

    /// <summary>Poly decay per step with <paramref name="power"/>.</summary>
    public static LearningRateSchedule PolyDecay(double power = 0.9) => new() { Kind = LearningRateScheduleKind.Poly, Power = power };

    /// <summary>
    /// The milestone epochs for a stage of <paramref name="epochs"/> epochs: fractions rounded to epochs, only those
    /// inside the stage (a milestone at 0 or at the end would never separate two rates), each once.
    /// </summary>
    public IReadOnlyList<int> Milestones(int epochs)
    {
        if (Kind != LearningRateScheduleKind.MultiStep) return [];
        var epochMilestones = MilestoneEpochs ?? (MilestoneFractions ?? []).Select(f => (int)Math.Round(f * epochs)).ToList();
        return epochMilestones.Where(m => m > 0 && m < epochs).Distinct().Order().ToList();
    }

    /// <summary>The rate of step <paramref name="batch"/> (0-based) of epoch <paramref name="epoch"/> (0-based).</summary>
    /// <param name="epochs">The stage's length in epochs.</param>
    /// <param name="batches">Steps per epoch.</param>
    public double RateAt(double baseRate, int epoch, int epochs, int batch, int batches) => Kind switch
    {
        LearningRateScheduleKind.Constant => baseRate,
        LearningRateScheduleKind.Poly => baseRate * Math.Pow(1 - (double)(epoch * (long)batches + batch) / Math.Max(1L, (long)epochs * batches), Power),
        _ => baseRate * Math.Pow(Decay, Milestones(epochs).Count(m => epoch >= m)),
    };

    /// <summary>Value equality, milestones included.</summary>
    public bool Equals(LearningRateSchedule? other) =>
        other is not null && Kind == other.Kind && Decay == other.Decay && Power == other.Power
        && Same(MilestoneEpochs, other.MilestoneEpochs) && Same(MilestoneFractions, other.MilestoneFractions);

    public override int GetHashCode() => HashCode.Combine(Kind, Decay, Power, MilestoneEpochs?.Count, MilestoneFractions?.Count);

    private static bool Same<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);

    /// <summary>Checks the values; <paramref name="setting"/> names the schedule in the error.</summary>
    public void Validate(string setting)
    {
        void Check(bool ok, string rule)
        {
            if (!ok) throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument, $"{setting} ({this}) is invalid: {rule}", setting);
        }
        if (Kind != LearningRateScheduleKind.MultiStep) Check(MilestoneEpochs is null && MilestoneFractions is null, "only a multistep schedule has milestones");
        if (Kind == LearningRateScheduleKind.Poly) Check(Power > 0 && double.IsFinite(Power), "the power must be a positive number");
        if (Kind != LearningRateScheduleKind.MultiStep) return;
        Check(MilestoneEpochs is null || MilestoneFractions is null, "give the milestones as epochs or as fractions, not both");
        Check(Decay is > 0 and <= 1, "the decay must be in (0, 1]");
        if (MilestoneEpochs is { } epochs)
            Check(epochs.All(m => m >= 1) && epochs.SequenceEqual(epochs.Order()), "milestones must be increasing epoch numbers ≥ 1");
        if (MilestoneFractions is { } fractions)
            Check(fractions.All(f => f is > 0 and < 1) && fractions.SequenceEqual(fractions.Order()), "milestone fractions must be increasing, in (0, 1)");
    }

    /// <summary>Short text for run objects: <c>constant</c>, <c>poly 0.9</c>, <c>×0.1 at 150,180,210</c>, <c>×0.2 at 30%,60%,90%</c>.</summary>
    public override string ToString() => Kind switch
    {
        LearningRateScheduleKind.Constant => "constant",
        LearningRateScheduleKind.Poly => $"poly {Invariant(Power)}",
        _ => $"×{Invariant(Decay)} at " + (MilestoneEpochs is { } e
            ? string.Join(",", e.Select(m => m.ToString(CultureInfo.InvariantCulture)))
            : string.Join(",", (MilestoneFractions ?? []).Select(f => Invariant(Math.Round(f * 100, 2)) + "%"))),
    };

    /// <summary>The schedule of a stage of <paramref name="epochs"/> epochs, with its milestones as epochs: <c>×0.1 at 150,180,210</c>.</summary>
    public string Describe(int epochs) => Kind == LearningRateScheduleKind.MultiStep
        ? $"×{Invariant(Decay)} at " + string.Join(",", Milestones(epochs).Select(m => m.ToString(CultureInfo.InvariantCulture)))
        : ToString();

    private static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
