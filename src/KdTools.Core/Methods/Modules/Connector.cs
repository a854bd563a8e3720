using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>1×1 conv + BN from student to teacher channels (AB's connector); no activation, as the loss acts on pre-ReLU values.</summary>
internal sealed class Connector : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public Connector(long studentChannels, long teacherChannels) : base(nameof(Connector))
    {
        conv = nn.Conv2d(studentChannels, teacherChannels, 1, bias: false);
        bn = nn.BatchNorm2d(teacherChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => bn.call(conv.call(input));
}
