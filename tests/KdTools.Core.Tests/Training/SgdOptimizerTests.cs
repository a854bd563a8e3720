using KdTools.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Training;

public class SgdOptimizerTests
{
    // Hand-computed with PyTorch's rule: g = grad + wd·p; v = μ·v + g; p -= lr·(nesterov ? g + μ·v : v).
    [Theory]
    [InlineData(false, 0.9, 0.5 - 0.1 * (2.0 + 0.01 * 0.5), 0.5 - 0.1 * (2.0 + 0.01 * 0.5) - 0.1 * (0.9 * 2.005 + (2.0 + 0.01 * (0.5 - 0.2005))))]
    [InlineData(true, 0.9, 0.5 - 0.1 * (2.005 + 0.9 * 2.005), double.NaN)]
    public void Update_matches_the_pytorch_rule(bool nesterov, double momentum, double afterOne, double afterTwo)
    {
        var p = new Parameter(torch.tensor(new double[] { 0.5 }));
        using var sgd = new SgdOptimizer([("w", p)], learningRate: 0.1, momentum, weightDecay: 0.01, nesterov);
        for (int step = 1; step <= (double.IsNaN(afterTwo) ? 1 : 2); step++)
        {
            sgd.ZeroGrad();
            using var loss = (p * 2.0).sum();
            loss.backward();
            sgd.Step();
            Assert.Equal(step == 1 ? afterOne : afterTwo, p.item<double>(), 12);
        }
    }
}
