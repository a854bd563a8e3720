using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// Factor Transfer's paraphraser: an autoencoder over the teacher's last feature map, three 3×3 convs down to the
/// factor (channels = k·C) and three transposed convs back, stride 1, BN and LeakyReLU(0.1). Trained first on L1
/// reconstruction; its encoder then gives the teacher factor.
/// </summary>
internal sealed class Paraphraser : nn.Module<Tensor, Tensor>
{
    private readonly Sequential encoder, decoder;

    public Paraphraser(long channels, long factorChannels) : base(nameof(Paraphraser))
    {
        encoder = nn.Sequential(Block(channels, channels, false), Block(channels, factorChannels, false), Block(factorChannels, factorChannels, false));
        decoder = nn.Sequential(Block(factorChannels, factorChannels, true), Block(factorChannels, channels, true), Block(channels, channels, true));
        RegisterComponents();
    }

    public Tensor Encode(Tensor feature) => encoder.call(feature);

    /// <summary>Reconstruction of the input (what the paraphraser pre-stage trains).</summary>
    public override Tensor forward(Tensor feature) => decoder.call(encoder.call(feature));

    internal static Sequential Block(long inputs, long outputs, bool transposed) => nn.Sequential(
        transposed ? nn.ConvTranspose2d(inputs, outputs, 3, stride: 1, padding: 1) : nn.Conv2d(inputs, outputs, 3, stride: 1, padding: 1),
        nn.BatchNorm2d(outputs),
        nn.LeakyReLU(0.1));
}

/// <summary>Factor Transfer's translator: three 3×3 convs (BN, LeakyReLU 0.1) from the student's last feature map to a factor.</summary>
internal sealed class Translator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public Translator(long channels, long factorChannels) : base(nameof(Translator))
    {
        layers = nn.Sequential(Paraphraser.Block(channels, channels, false), Paraphraser.Block(channels, factorChannels, false),
            Paraphraser.Block(factorChannels, factorChannels, false));
        RegisterComponents();
    }

    public override Tensor forward(Tensor feature) => layers.call(feature);
}
