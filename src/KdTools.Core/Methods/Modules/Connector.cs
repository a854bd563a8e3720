using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>1×1 conv + BN from student to teacher channels (AB's and OFD's connector); no activation, as the losses act on pre-ReLU values.</summary>
internal sealed class Connector : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    /// <param name="studentChannels">Input channels.</param>
    /// <param name="teacherChannels">Output channels.</param>
    /// <param name="heNormal">Initialise the conv from N(0, 2/(k²·out)) (He et al., fan-out) as OFD's reference
    /// connector does, instead of TorchSharp's default.</param>
    public Connector(long studentChannels, long teacherChannels, bool heNormal = false) : base(nameof(Connector))
    {
        conv = nn.Conv2d(studentChannels, teacherChannels, 1, bias: false);
        bn = nn.BatchNorm2d(teacherChannels);
        if (heNormal) nn.init.normal_(conv.weight, 0, Math.Sqrt(2.0 / teacherChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => bn.call(conv.call(input));
}
