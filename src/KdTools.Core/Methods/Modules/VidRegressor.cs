using KdTools.Core.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// VID's variational regressor for one stage pair: the mean of the Gaussian over the teacher feature given the
/// student's (three bias-free 1×1 convs with ReLUs) and a learned per-channel variance softplus(log_scale) + eps.
/// </summary>
internal sealed class VidRegressor : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly Parameter log_scale;

    public VidRegressor(long studentChannels, long middleChannels, long teacherChannels, double initialVariance) : base(nameof(VidRegressor))
    {
        conv1 = nn.Conv2d(studentChannels, middleChannels, 1, bias: false);
        conv2 = nn.Conv2d(middleChannels, middleChannels, 1, bias: false);
        conv3 = nn.Conv2d(middleChannels, teacherChannels, 1, bias: false);
        log_scale = new Parameter(torch.full(teacherChannels, VidLoss.InitialLogScale(initialVariance)));
        RegisterComponents();
    }

    public Tensor LogScale => log_scale;

    public override Tensor forward(Tensor input) =>
        conv3.call(nn.functional.relu(conv2.call(nn.functional.relu(conv1.call(input)))));
}
