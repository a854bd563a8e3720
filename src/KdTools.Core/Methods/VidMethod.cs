using System.ComponentModel;
using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;

namespace KdTools.Core.Methods;

internal sealed class VidOptions : FeatureMethodOptions
{
    public VidOptions() => Beta = 1;

    [Description("Initial variance of the Gaussian (softplus of the learned log-scale). The squared error is divided by " +
        "the variance, so at RepDistiller's β = 1 and variance 5 the VID gradient is only about 1 % of the label loss's " +
        "early in training; raise Beta (or lower this) for a stronger pull.")]
    public double InitialVariance { get; set; } = VidLoss.DefaultInitialVariance;

    public override void Validate()
    {
        base.Validate();
        Require(InitialVariance > 0, nameof(InitialVariance), "must be > 0", InitialVariance);
    }
}

/// <summary>
/// Variational information distillation (Ahn et al. 2019): maximise a variational lower bound of the mutual
/// information between teacher and student stage features, i.e. minimise the Gaussian negative log-likelihood of the
/// teacher feature under a mean regressed from the student's, with a learned per-channel variance, for every stage.
/// </summary>
[DistillationMethod("VID", "Variational information distillation: Gaussian likelihood of teacher stage features given the student's.",
    Paper = "Ahn et al. Variational Information Distillation for Knowledge Transfer. CVPR 2019")]
internal sealed class VidMethod(VidOptions options) : FeatureDistillationMethod<VidOptions>(options)
{
    private int[] _stages = [];
    private ModuleList<VidRegressor>? _regressors;

    public override void Initialize(MethodSetup setup)
    {
        _stages = StageFeatures.Pairs(setup, Name);
        _regressors = new ModuleList<VidRegressor>(_stages.Select(s =>
        {
            long sc = setup.Student(FeatureNames.Stage(s))[1], tc = setup.Teacher(FeatureNames.Stage(s))[1];
            return new VidRegressor(sc, tc, tc, Options.InitialVariance);
        }).ToArray());
        Extras = _regressors;
    }

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var losses = new List<TorchSharp.torch.Tensor>(_stages.Length);
        for (int i = 0; i < _stages.Length; i++)
        {
            var name = FeatureNames.Stage(_stages[i]);
            var (input, target) = SpatialPooling.MatchHeights(step.Student.Feature(name), teacher.Feature(name), "VID");
            losses.Add(VidLoss.Compute(_regressors![i].call(input), target, _regressors[i].LogScale));
        }
        terms.Add("vid", Options.Beta * torch.stack(losses).sum());
    }
}
