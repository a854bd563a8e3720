using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Models;

/// <summary>
/// libtorch's channels-last memory layout for the image batches the networks are fed. TorchSharp has no
/// <c>memory_format</c> argument, but channels-last is only a stride pattern: an [N, C, H, W] tensor whose storage is
/// ordered N, H, W, C. On the CPU, oneDNN's convolutions read such an input and write their output in the same layout
/// without reordering to and from their blocked format, and every following convolution, BatchNorm, ReLU and sum keeps
/// it, so a whole network runs channels-last from its input alone (weights may stay as they are). With BatchNorm folding
/// it takes a CIFAR ResNet teacher's forward to 0.55–0.83 of the plain one (bench/README.md, <c>teacher_eval_plain</c>;
/// measured together on a loaded machine). The values are the same up to float rounding (other summation orders).
/// </summary>
internal static class ChannelsLast
{
    /// <summary>
    /// <paramref name="images"/> [N, C, H, W] re-laid out channels-last when that pays: float32 on the CPU (oneDNN has no
    /// float64 convolutions, and GPU layouts are not measured here); otherwise the tensor itself.
    /// </summary>
    public static Tensor Apply(Tensor images) =>
        images.dim() == 4 && images.device_type == DeviceType.CPU && images.dtype == ScalarType.Float32 && images.shape[1] > 1
            ? images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            : images;

    /// <summary>
    /// Whether <paramref name="tensor"/> (4-d) is laid out channels-last: its channels are adjacent in memory (stride 1
    /// over more than one channel), as on the inputs <see cref="Apply"/> makes, every layer's output after them, and
    /// channel slices of those.
    /// </summary>
    public static bool Is(Tensor tensor) => tensor.dim() == 4 && tensor.shape[1] > 1 && tensor.stride(1) == 1;
}
