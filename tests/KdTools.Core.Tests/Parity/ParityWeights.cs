using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Parity;

internal static class ParityWeights
{
    /// <summary>
    /// Gives every BatchNorm a trained-looking affine map and running statistics (a new network has weight 1, bias 0,
    /// mean 0, variance 1, under which eval mode is nearly the identity and would hide a wrong statistic or eps).
    /// </summary>
    public static void RandomizeBatchNorm(nn.Module network, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in network.named_modules())
        {
            if (module is not BatchNorm2d norm) continue;
            norm.weight!.uniform_(0.5, 1.5, generator);
            norm.bias!.normal_(0, 0.2, generator);
            norm.running_mean!.normal_(0, 0.2, generator);
            norm.running_var!.uniform_(0.5, 1.5, generator);
        }
    }
}
