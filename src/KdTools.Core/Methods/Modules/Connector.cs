using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// AB's learned connector from student to teacher channels: a bias-free 1×1 conv with He-normal (fan-out) weights and
/// a BN at weight 1, bias 0, as the AB authors build it; no activation, as the loss acts on pre-ReLU values.
/// </summary>
public sealed class Connector : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public Connector(long studentChannels, long teacherChannels) : base(nameof(Connector))
    {
        conv = ReferenceLayers.Conv(studentChannels, teacherChannels, 1);
        bn = nn.BatchNorm2d(teacherChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => bn.call(conv.call(input));
}
