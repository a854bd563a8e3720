using KdTools.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// A learned connector from student to teacher channels (AB's and OFD's): a bias-free 1×1 conv with He-normal
/// (fan-out) weights, N(0, 2/out), and a BN at weight 1, bias 0, as the AB authors and mdistiller's OFD build it; no
/// activation, as both losses act on pre-ReLU values.
/// </summary>
internal sealed class Connector : nn.Module<Tensor, Tensor>
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
