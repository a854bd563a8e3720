using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>Stacks residual blocks into one stage (a ResNet <c>layerN</c>).</summary>
internal static class ResidualStage
{
    /// <summary>
    /// <paramref name="blockCount"/> blocks: the first takes <paramref name="inPlanes"/> at <paramref name="stride"/>,
    /// the rest keep <paramref name="outPlanes"/> at stride 1. <paramref name="block"/> gets (input planes, stride,
    /// whether it ends the stage); the last block returns its pre-activation (see <see cref="BasicBlock"/>).
    /// </summary>
    public static Sequential Build(int blockCount, long inPlanes, long outPlanes, long stride,
        Func<long, long, bool, nn.Module<Tensor, Tensor>> block) =>
        nn.Sequential(Enumerable.Range(0, blockCount)
            .Select(i => block(i == 0 ? inPlanes : outPlanes, i == 0 ? stride : 1, i == blockCount - 1)));

    /// <summary>
    /// The affine of the BatchNorm that ends a stage's last block before its shortcut sum (<see cref="BasicBlock.OutputNorm"/>,
    /// <see cref="Bottleneck.OutputNorm"/>); null for no stage.
    /// </summary>
    public static (Tensor Weight, Tensor Bias)? LastOutputNorm(Sequential? stage)
    {
        var norm = stage?.children().Last() switch
        {
            BasicBlock block => block.OutputNorm,
            Bottleneck block => block.OutputNorm,
            _ => null,
        };
        return norm is null ? null : (norm.weight!, norm.bias!);
    }
}
