using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// Layers initialised as the CIFAR distillation references initialise them. BatchNorm needs nothing here:
/// TorchSharp already starts it at weight 1, bias 0, as the references set it.
/// </summary>
internal static class ReferenceLayers
{
    /// <summary>
    /// A convolution with He-normal weights scaled by fan-out (the references' <c>normal(0, sqrt(2 / (k·k·out)))</c>,
    /// i.e. <c>kaiming_normal_(mode='fan_out', nonlinearity='relu')</c>) and a zero bias when it has one. For a grouped
    /// (depthwise) convolution the fan-out is still k·k·out, as in the references.
    /// </summary>
    public static Conv2d Conv(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = false,
        long dilation = 1, long groups = 1)
    {
        var conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias);
        nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        if (conv.bias is not null) nn.init.zeros_(conv.bias);
        return conv;
    }

    /// <summary>3x3 convolution padded by its dilation, so stride 1 keeps the spatial size.</summary>
    public static Conv2d Conv3x3(long inChannels, long outChannels, long stride = 1, bool bias = false, long dilation = 1) =>
        Conv(inChannels, outChannels, 3, stride, padding: dilation, bias: bias, dilation: dilation);

    /// <summary>
    /// The residual shortcut that reshapes a block's input to its output (1x1 conv + BN), or null when the identity
    /// already fits (same width, stride 1).
    /// </summary>
    public static Sequential? ProjectionShortcut(long inPlanes, long outPlanes, long stride) =>
        stride == 1 && inPlanes == outPlanes
            ? null
            : nn.Sequential(Conv(inPlanes, outPlanes, 1, stride), nn.BatchNorm2d(outPlanes));
}
