using System.ComponentModel;
using KdTools.Core.Losses;

namespace KdTools.Core.Methods;

/// <summary>
/// Options shared by the feature- and relation-based methods, following the reference training script
/// (RepDistiller): loss = 1·CE + KdWeight·KD + Beta·(the method's term).
/// </summary>
public abstract class FeatureMethodOptions : MethodOptions
{
    [Description("Weight β of the method's own loss term (added to CE with weight 1).")]
    public double Beta { get; set; }

    [Description("Weight α of an added Hinton KD term; 0 = none (what -KdWeight sets).")]
    [LogitKdWeight]
    public double KdWeight { get; set; }

    [Description("Temperature of that KD term.")]
    public double Temperature { get; set; } = 4;

    public override void Validate()
    {
        RequireNonNegative(Beta, nameof(Beta));
        RequireNonNegative(KdWeight, nameof(KdWeight));
        Require(Temperature > 0, nameof(Temperature), "must be > 0", Temperature);
    }
}

/// <summary>Base of the feature methods: adds the optional KD term, then the method's own weighted terms.</summary>
public abstract class FeatureDistillationMethod<TOptions>(TOptions options) : DistillationMethod<TOptions>(options)
    where TOptions : FeatureMethodOptions, new()
{
    /// <summary>Only the optional KD term reads the teacher's logits; the methods' own terms read its features.</summary>
    public override bool ReadsTeacherLogits => Options.KdWeight > 0;

    public sealed override void AddLosses(StepContext step, LossTerms terms)
    {
        if (Options.KdWeight > 0)
            terms.Add("kd", Options.KdWeight * KdLoss.Compute(step.Student.Logits, step.RequireTeacher().Logits, Options.Temperature), nameof(Options.KdWeight));
        AddMethodLosses(step, terms);
        terms.DefaultWeightOption(nameof(Options.Beta));
    }

    /// <summary>The method's own terms, each already multiplied by <see cref="FeatureMethodOptions.Beta"/>.</summary>
    protected abstract void AddMethodLosses(StepContext step, LossTerms terms);
}
