using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Models;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Evaluation;

public class EnsembleTests
{
    /// <summary>A two-class "network" with two extra exits whose logits are fixed, whatever the input.</summary>
    private sealed class FixedExitsNet : ClassifierNet
    {
        public FixedExitsNet() : base("fixed", numClasses: 2, stageCount: 1) => RegisterComponents();

        // No convolution to read it from.
        public override int InputChannels => 1;

        public override ModelOutput Run(Tensor input)
        {
            long batch = input.shape[0];
            Tensor Logits(float first, float second) => tensor(new[] { first, second }).expand(batch, 2);
            return new ModelOutput(Logits(10, 0), new Dictionary<string, Tensor>(),
                new Dictionary<string, Tensor> { ["branch1"] = Logits(0, 4), ["branch2"] = Logits(0, 4) });
        }
    }

    [Fact]
    public void Ensemble_averages_the_exits_logits_as_BYOT_does_not_their_probabilities()
    {
        using var scope = NewDisposeScope();
        // The final classifier is sure of class 0, both branches lean to class 1. Mean logits (10/3, 8/3) pick class 0;
        // mean probabilities would pick class 1 ((1 + 2·0.018)/3 ≈ 0.35 for class 0).
        using var set = new ImageSet(zeros([3, 1, 2, 2], ScalarType.Byte), zeros([3], ScalarType.Int64));
        var exits = Evaluator.EvaluateExits(new FixedExitsNet(), set, new InputNormalization([0f], [1f]), CPU);

        var ensemble = exits[ExitNames.Ensemble];
        Assert.Equal(1.0, ensemble.Top1);
        Assert.Equal(Math.Log(1 + Math.Exp(-2.0 / 3)), ensemble.Loss, 6);
        Assert.Equal(0.0, exits["branch1"].Top1);
        Assert.Equal(1.0, exits[ExitNames.Final].Top1);
    }
}
