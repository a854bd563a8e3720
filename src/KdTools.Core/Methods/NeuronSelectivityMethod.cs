using KdTools.Core.Losses;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class NeuronSelectivityOptions : FeatureMethodOptions
{
    public NeuronSelectivityOptions() => Beta = 50;
}

/// <summary>
/// Neuron selectivity transfer (Huang &amp; Wang 2017): match the distributions of neuron activations with a squared
/// MMD under a polynomial kernel, for every stage pair.
/// </summary>
[DistillationMethod("NST", "Neuron selectivity transfer: MMD (polynomial kernel) between activation distributions of every stage pair.",
    Paper = "Huang, Wang. Like What You Like: Knowledge Distill via Neuron Selectivity Transfer. 2017")]
internal sealed class NeuronSelectivityMethod(NeuronSelectivityOptions options) : FeatureDistillationMethod<NeuronSelectivityOptions>(options)
{
    private int[] _stages = [];

    public override void Initialize(MethodSetup setup) => _stages = StageFeatures.Pairs(setup, Name);

    protected override void AddMethodLosses(StepContext step, LossTerms terms)
    {
        var teacher = step.RequireTeacher();
        var losses = NeuronSelectivityLoss.ComputeLayers(StageFeatures.Collect(step.Student, _stages), StageFeatures.Collect(teacher, _stages));
        terms.Add("nst", Options.Beta * TorchSharp.torch.stack(losses).sum());
    }
}
