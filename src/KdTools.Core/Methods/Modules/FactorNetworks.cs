using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// Factor Transfer's paraphraser: an autoencoder over the teacher's last feature map, three 3×3 convs down to the
/// factor (channels = k·C) and three transposed convs back, stride 1, each followed by LeakyReLU(0.1) and no
/// BatchNorm — as in both references (the authors' code and RepDistiller's <c>Paraphraser(use_bn=False)</c>).
/// Trained first on reconstruction; its encoder then gives the teacher factor. Layer indices follow RepDistiller's
/// <c>nn.Sequential</c> (conv at 0, 3, 6; 1, 4, 7 hold no BatchNorm), so state keys map one to one.
/// </summary>
internal sealed class Paraphraser : nn.Module<Tensor, Tensor>
{
    private readonly Sequential encoder, decoder;

    public Paraphraser(long channels, long factorChannels) : base(nameof(Paraphraser))
    {
        encoder = FactorLayers.Stack([channels, channels, factorChannels, factorChannels], transposed: false, batchNorm: false);
        decoder = FactorLayers.Stack([factorChannels, factorChannels, channels, channels], transposed: true, batchNorm: false);
        RegisterComponents();
    }

    public Tensor Encode(Tensor feature) => encoder.call(feature);

    /// <summary>Reconstruction of the input (what the paraphraser pre-stage trains).</summary>
    public override Tensor forward(Tensor feature) => decoder.call(encoder.call(feature));
}

/// <summary>
/// Factor Transfer's translator: three 3×3 convs with LeakyReLU(0.1) from the student's last feature map to a factor.
/// RepDistiller's translator has BatchNorm after each conv, the authors' has none.
/// </summary>
internal sealed class Translator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential encoder;

    public Translator(long channels, long factorChannels, bool batchNorm) : base(nameof(Translator))
    {
        encoder = FactorLayers.Stack([channels, channels, factorChannels, factorChannels], transposed: false, batchNorm);
        RegisterComponents();
    }

    public override Tensor forward(Tensor feature) => encoder.call(feature);
}

internal static class FactorLayers
{
    /// <summary>
    /// (conv, BN or identity, LeakyReLU 0.1) per step from <c>widths[i]</c> to <c>widths[i + 1]</c>: 3×3, stride 1,
    /// padding 1, with bias; transposed convs for a decoder.
    /// </summary>
    public static Sequential Stack(long[] widths, bool transposed, bool batchNorm)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i + 1 < widths.Length; i++)
        {
            long inputs = widths[i], outputs = widths[i + 1];
            layers.Add(transposed
                ? nn.ConvTranspose2d(inputs, outputs, 3, stride: 1, padding: 1)
                : nn.Conv2d(inputs, outputs, 3, stride: 1, padding: 1));
            layers.Add(batchNorm ? nn.BatchNorm2d(outputs) : nn.Identity());
            layers.Add(nn.LeakyReLU(0.1));
        }
        return nn.Sequential(layers);
    }
}
