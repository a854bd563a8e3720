using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// MHKD's auxiliary classifier for one stage output, as the DIH reference builds it for its MHKD baseline: two bias-free
/// 3×3 conv-BN-ReLU layers of <c>width</c> channels, global average pooling, then FC-ReLU-FC to the classes.
/// The reference's convs are unpadded (each shrinks the map by 2); a conv whose input has become smaller than its
/// kernel is padded instead, so the head fits any stage, down to 1×1 maps.
/// </summary>
internal sealed class MhkdHead : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Linear fc1, fc2;

    /// <param name="stageShape">Shape of the stage output it reads, [B, C, H, W].</param>
    /// <param name="width">Channels of both convs and width of the hidden FC layer (the reference: 256).</param>
    /// <param name="classes">Outputs of its last FC layer.</param>
    public MhkdHead(long[] stageShape, long width, int classes) : base(nameof(MhkdHead))
    {
        long side = Math.Min(stageShape[2], stageShape[3]);
        conv1 = Conv(stageShape[1], width, ref side);
        bn1 = nn.BatchNorm2d(width);
        conv2 = Conv(width, width, ref side);
        bn2 = nn.BatchNorm2d(width);
        fc1 = nn.Linear(width, width);
        fc2 = nn.Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor stage)
    {
        var x = nn.functional.relu(bn1.call(conv1.call(stage)));
        x = nn.functional.relu(bn2.call(conv2.call(x)));
        return fc2.call(nn.functional.relu(fc1.call(x.mean([2, 3]))));
    }

    private static Conv2d Conv(long inputs, long outputs, ref long side)
    {
        bool unpadded = side >= 3;
        if (unpadded) side -= 2;
        return nn.Conv2d(inputs, outputs, 3, padding: unpadded ? 0 : 1, bias: false);
    }
}
