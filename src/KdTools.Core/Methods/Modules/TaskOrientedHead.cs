using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// TOFD's task-oriented auxiliary classifier for one stage: shaped like the rest of the backbone, one depthwise-separable
/// block per remaining stage (3×3 depthwise, 1×1 pointwise, BN, ReLU, twice) carries the map to the last stage's
/// channels, then global average pooling gives the task-oriented feature and a linear layer the logits.
/// A block halves the map where the backbone does (the reference's blocks always stride 2, as its ResNets always
/// downsample between stages); the reference pools with AvgPool2d(4, 4), a global pool only for 32×32 inputs.
/// </summary>
internal sealed class TaskOrientedHead : nn.Module
{
    private readonly Sequential blocks;
    private readonly Linear fc;

    /// <param name="stageShapes">Shapes [B, C, H, W] of the stage it reads and of every later stage, in order.</param>
    /// <param name="classes">Outputs of its classifier.</param>
    public TaskOrientedHead(IReadOnlyList<long[]> stageShapes, int classes) : base(nameof(TaskOrientedHead))
    {
        if (stageShapes.Count < 2) throw new ArgumentException("a task-oriented head mirrors at least one later stage", nameof(stageShapes));
        blocks = nn.Sequential(Enumerable.Range(0, stageShapes.Count - 1)
            .Select(j => ((string, nn.Module<Tensor, Tensor>))($"{j}", SepConv(stageShapes[j], stageShapes[j + 1]))));
        FeatureWidth = stageShapes[^1][1];
        fc = nn.Linear(FeatureWidth, classes);
        RegisterComponents();
        // The reference's initialisation for every conv of its networks and heads.
        foreach (var (_, module) in named_modules())
            if (module is Conv2d conv)
                nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
    }

    /// <summary>Width of the pooled task-oriented feature: the channels of the backbone's last stage.</summary>
    public long FeatureWidth { get; }

    public (Tensor Logits, Tensor Feature) Run(Tensor stage)
    {
        var feature = blocks.call(stage).mean([2, 3]);
        return (fc.call(feature), feature);
    }

    private static Sequential SepConv(long[] from, long[] to)
    {
        long inputs = from[1], outputs = to[1];
        long stride = to[2] < from[2] ? 2 : 1;
        return nn.Sequential(
            ("0", nn.Conv2d(inputs, inputs, 3, stride: stride, padding: 1, groups: inputs, bias: false)),
            ("1", nn.Conv2d(inputs, inputs, 1, bias: false)),
            ("2", nn.BatchNorm2d(inputs)),
            ("3", nn.ReLU()),
            ("4", nn.Conv2d(inputs, inputs, 3, stride: 1, padding: 1, groups: inputs, bias: false)),
            ("5", nn.Conv2d(inputs, outputs, 1, bias: false)),
            ("6", nn.BatchNorm2d(outputs)),
            ("7", nn.ReLU()));
    }
}
