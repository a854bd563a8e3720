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
    /// Runs <paramref name="stage"/>'s blocks one after the other, as <c>stage.call(input)</c> does, but frees each
    /// block's output as soon as the next block has read it (autograd keeps its own reference where backward needs
    /// one), as PyTorch's reference counting frees it, instead of keeping every block's output until the forward
    /// pass's dispose scope ends: a no_grad pass (a teacher, an evaluation) then needs a few activations, not all.
    /// </summary>
    public static Tensor Forward(Sequential stage, Tensor input)
    {
        var x = input;
        foreach (var block in stage.children())
        {
            var next = ((nn.Module<Tensor, Tensor>)block).call(x);
            if (!ReferenceEquals(x, input) && !ReferenceEquals(next, x)) x.Dispose();
            x = next;
        }
        return x;
    }

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
