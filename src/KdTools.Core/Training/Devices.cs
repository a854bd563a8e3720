using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Training;

/// <summary>Turns "cpu" / "cuda" / "cuda:1" into a device, failing clearly when the backend lacks it.</summary>
public static class Devices
{
    public static Device Resolve(string name)
    {
        var text = string.IsNullOrWhiteSpace(name) ? "cpu" : name.Trim().ToLowerInvariant();
        if (text == "cpu") return torch.CPU;
        if (text.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new KdException(KdErrorIds.DeviceUnavailable, KdErrorKind.ResourceUnavailable,
                    $"device '{name}' is not available: this build uses the CPU backend or no NVIDIA GPU is visible; use the 'cpu' device, or a CUDA build of KdTools on a machine with a GPU", name);
            return torch.device(text);
        }
        throw new KdException(KdErrorIds.TrainingSettingInvalid, KdErrorKind.InvalidArgument,
            $"unknown device '{name}'; use cpu, cuda or cuda:N", name);
    }
}
