using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// The critic ("discriminator") of SKD's holistic term, as the official code builds it (sagan_models.Discriminator with
/// preprocess mode 1 and an input of 65 pixels): BatchNorm over the input channels, four spectral-normalised 4×4
/// stride-2 convolutions of <c>convDim</c>·1/2/4/8 channels each followed by LeakyReLU(0.1), self-attention after the
/// third and the fourth, and a final plain 4×4 convolution to one channel. Its score map's mean is the Wasserstein
/// critic value. It reads the segmentation logits; with <c>imageChannels</c> above 0 it also reads the image, pooled
/// to the logits' size and concatenated (the paper's D(Q|I); the official code does not condition on the image).
/// </summary>
/// <remarks>
/// The five 4×4 convolutions need at least 64 pixels per side (the reference feeds 65×65 logits of 512-pixel crops);
/// smaller inputs are first upsampled bilinearly so their shorter side is 64, keeping the aspect ratio. Attribute
/// names follow the reference (<c>preprocess_additional</c>, <c>l1</c>…<c>l4</c>, <c>attn1</c>, <c>attn2</c>, <c>last</c>).
/// </remarks>
internal sealed class HolisticCritic : nn.Module
{
    /// <summary>The smallest side the layer stack accepts.</summary>
    public const int MinimumInputSide = 64;

    private const double LeakySlope = 0.1;

    private readonly BatchNorm2d preprocess_additional;
    private readonly Sequential l1;
    private readonly Sequential l2;
    private readonly Sequential l3;
    private readonly Sequential l4;
    private readonly SelfAttention attn1;
    private readonly SelfAttention attn2;
    private readonly Sequential last;

    /// <param name="scoreChannels">Channels of the logits it judges (the class count).</param>
    /// <param name="imageChannels">0 for the official unconditioned critic; the image's channels to condition on it.</param>
    /// <param name="convDim">Width of the first convolution (64 in the reference); the others are 2, 4 and 8 times it.</param>
    public HolisticCritic(long scoreChannels, long imageChannels = 0, long convDim = 64) : base(nameof(HolisticCritic))
    {
        if (convDim < 2) throw new ArgumentOutOfRangeException(nameof(convDim), convDim, "the critic needs convDim ≥ 2 (its attention layers need 8 channels)");
        ScoreChannels = scoreChannels;
        ImageChannels = imageChannels;
        long input = scoreChannels + imageChannels;
        preprocess_additional = nn.BatchNorm2d(input);
        l1 = Downsampling(input, convDim);
        l2 = Downsampling(convDim, convDim * 2);
        l3 = Downsampling(convDim * 2, convDim * 4);
        attn1 = new SelfAttention(convDim * 4);
        l4 = Downsampling(convDim * 4, convDim * 8);
        attn2 = new SelfAttention(convDim * 8);
        last = nn.Sequential(nn.Conv2d(convDim * 8, 1, 4));
        RegisterComponents();
    }

    /// <summary>Channels of the logits it judges (the class count).</summary>
    public long ScoreChannels { get; }

    /// <summary>0 when the critic judges the logits alone.</summary>
    public long ImageChannels { get; }

    /// <summary>
    /// The critic's score map [N, 1, h', w'] for the logits <paramref name="scores"/> [N, K, h, w]; the critic value is
    /// its mean. <paramref name="image"/> [N, C, H, W] is required exactly when the critic conditions on the image.
    /// </summary>
    public Tensor Score(Tensor scores, Tensor? image = null)
    {
        if (scores.dim() != 4 || scores.shape[1] != ScoreChannels)
            throw new ArgumentException($"the critic judges [N, {ScoreChannels}, h, w] logits, got [{string.Join(", ", scores.shape)}]");
        if ((image is null) != (ImageChannels == 0))
            throw new ArgumentException(ImageChannels == 0 ? "this critic does not condition on the image" : "this critic conditions on the image; pass it");

        using var scope = NewDisposeScope();
        var input = image is null ? scores
            : cat([scores, nn.functional.adaptive_avg_pool2d(image, [scores.shape[2], scores.shape[3]])], 1);
        long shorter = Math.Min(input.shape[2], input.shape[3]);
        if (shorter < MinimumInputSide)
        {
            double factor = (double)MinimumInputSide / shorter;
            input = nn.functional.interpolate(input, [(long)Math.Round(input.shape[2] * factor), (long)Math.Round(input.shape[3] * factor)],
                mode: InterpolationMode.Bilinear, align_corners: false);
        }
        var x = l3.call(l2.call(l1.call(preprocess_additional.call(input))));
        x = attn2.call(l4.call(attn1.call(x)));
        return last.call(x).MoveToOuterDisposeScope();
    }

    private static Sequential Downsampling(long inChannels, long outChannels) =>
        nn.Sequential(new SpectralNormConv2d(inChannels, outChannels, 4, stride: 2, padding: 1), nn.LeakyReLU(LeakySlope));
}
